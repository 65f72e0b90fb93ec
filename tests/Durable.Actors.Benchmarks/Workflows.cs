using System.Diagnostics;

namespace Durable.Actors.Benchmarks;

/// <summary>The small record every benchmark step returns.</summary>
public sealed record Payload(int I, string Text);

/// <summary>W1: sequential steps, each one timed from the call to the returned result.</summary>
public sealed class SequentialWorkflow(List<double> stepMicroseconds) : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int steps)
    {
        var sum = 0;
        for (var i = 0; i < steps; i++)
        {
            var n = i;
            // The benchmark's own measurement, not workflow logic: the value is never journaled or branched on.
#pragma warning disable DURABLE0001
            var started = Stopwatch.GetTimestamp();
            var payload = await context.StepAsync("step", () => new Payload(n, "payload-" + n));
            stepMicroseconds.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
#pragma warning restore DURABLE0001
            sum += payload.I;
        }
        return sum;
    }
}

/// <summary>W2: a few sequential steps.</summary>
public sealed class StepsWorkflow : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int steps)
    {
        var sum = 0;
        for (var i = 0; i < steps; i++)
        {
            var n = i;
            sum += (await context.StepAsync("step", () => new Payload(n, "payload-" + n))).I;
        }
        return sum;
    }
}

/// <summary>
/// Failover on a cluster: slow sequential steps, each printing <c>RAN workflowId step</c> on its node's standard output
/// once its body ran, so that the benchmark sees which node runs which workflow, and when a lost one runs again.
/// </summary>
public sealed class FailoverWorkflow : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            var n = i;
            await context.StepAsync("slow-step", async ct =>
            {
                await Task.Delay(200, ct);
                Console.WriteLine($"RAN {context.WorkflowId} {n}");
            });
        }
        return steps;
    }
}

/// <summary>W3: the onboarding shape: one step, two steps in parallel, one step.</summary>
public sealed class OnboardingShapeWorkflow : IWorkflow<int, string>
{
    public async Task<string> RunAsync(IWorkflowContext context, int _)
    {
        var employee = await context.StepAsync("create-employee", () => new Payload(1, "employee"));
        var (laptop, access) = await context.ParallelAsync(
            branch => branch.StepAsync("provision-laptop", () => new Payload(2, "laptop")),
            branch => branch.StepAsync("provision-access", () => new Payload(3, "access")));
        var email = await context.StepAsync("send-welcome-email", () => new Payload(4, "email"));
        return $"{employee.Text}/{laptop.Text}/{access.Text}/{email.Text}";
    }
}

/// <summary>
/// W4: sequential steps, each appending <c>workflowId step</c> to a side-effect file before it returns. In the
/// process that is killed, no step runs before every workflow has started (its method runs only once its start is
/// durable), so that the kill finds all of them under way.
/// </summary>
public sealed class SideEffectWorkflow(SideEffectFile file, StartBarrier? allStarted) : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int steps)
    {
        if (allStarted is not null)
            await allStarted.ArriveAndWaitAsync();
        var sum = 0;
        for (var i = 1; i <= steps; i++)
        {
            var n = i;
            sum += await context.StepAsync("step", () =>
            {
                file.Append($"{context.WorkflowId} {n}");
                return n;
            });
        }
        return sum;
    }
}

/// <summary>
/// One writer for all workflows: each line goes to the OS at once (it survives a SIGKILL of the process), without an
/// fsync per line. Calls <see cref="OnCount"/> when the line count reaches <see cref="Signal"/>.
/// </summary>
public sealed class SideEffectFile(string path, int signal, Action onCount) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer = new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite));
    private int _lines;

    public int Signal { get; } = signal;

    public Action OnCount { get; } = onCount;

    public void Append(string line)
    {
        bool signal;
        lock (_gate)
        {
            _writer.WriteLine(line);
            _writer.Flush();
            signal = ++_lines == Signal;
        }
        if (signal)
            OnCount();
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>Lets its callers go once <c>count</c> of them have arrived.</summary>
public sealed class StartBarrier(int count)
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public Task ArriveAndWaitAsync()
    {
        if (Interlocked.Increment(ref _arrived) >= count)
            _all.TrySetResult();
        return _all.Task;
    }
}

/// <summary>W5 and W6: two steps; the second fails (no retry) when the input is odd, so that the database holds failed workflows too.</summary>
public sealed class TwoStepWorkflow : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int input)
    {
        var first = await context.StepAsync("first", () => new Payload(input, "first"));
        var second = await context.StepAsync("second",
            () => input % 2 == 1 ? throw new InvalidOperationException($"failed on purpose ({input})") : new Payload(input, "second"), RetryPolicy.None);
        return first.I + second.I;
    }
}

/// <summary>W7: one step, then sleeps an hour: longer than passivate-after, so the workflow is put away (a row, not an actor).</summary>
public sealed class SleeperWorkflow : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int input)
    {
        var first = await context.StepAsync("first", () => new Payload(input, "first"));
        await context.SleepAsync(TimeSpan.FromHours(1));
        return first.I;
    }
}

/// <summary>W8: one step, a sleep until the instant every workflow of the storm shares, then the step <c>done</c>.</summary>
public sealed class StormWorkflow : IWorkflow<DateTimeOffset, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, DateTimeOffset due)
    {
        await context.StepAsync("first", () => new Payload(0, "first"));
        await context.SleepUntilAsync(due);
        return (await context.StepAsync("done", () => new Payload(1, "done"))).I;
    }
}

/// <summary>W9: waits for the signal <c>go</c> (no timeout), then runs the step <c>after</c>, which tells <paramref name="bodyRan"/>.</summary>
public sealed class SignalledWorkflow(Action<string> bodyRan) : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int input)
    {
        var go = await context.WaitForSignalAsync<int>("go");
        return await context.StepAsync("after", () =>
        {
            bodyRan(context.WorkflowId);
            return go.Payload + input;
        });
    }
}

/// <summary>W14: one step that records when it started, by workflow id (a schedule's tick: <c>&lt;schedule&gt;@&lt;instant&gt;</c>).</summary>
public sealed class TickWorkflow(System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> started) : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int input) =>
        await context.StepAsync("tick", () =>
        {
            started.TryAdd(context.WorkflowId, DateTimeOffset.UtcNow);
            return input;
        });
}

/// <summary>W13: one step that tells <see cref="QueueProbe"/> when it starts and ends, by its key (the input).</summary>
public sealed class QueuedWorkflow(QueueProbe probe) : IWorkflow<string, string>
{
    public async Task<string> RunAsync(IWorkflowContext context, string input) =>
        await context.StepAsync("work", async ct =>
        {
            probe.Enter(context.WorkflowId, input);
            await Task.Yield();
            probe.Exit(input);
            return input;
        });
}

/// <summary>W13: how many queued workflows run at once, in all and per key, and when each one's step started.</summary>
public sealed class QueueProbe
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _started = new(StringComparer.Ordinal);
    private int _running;

    public int MostAtOnce { get; private set; }

    public int MostAtOncePerKey { get; private set; }

    public void Enter(string workflowId, string key)
    {
        lock (_gate)
        {
            _started.TryAdd(workflowId, System.Diagnostics.Stopwatch.GetTimestamp());
            MostAtOnce = Math.Max(MostAtOnce, ++_running);
            var n = _byKey[key] = _byKey.GetValueOrDefault(key) + 1;
            MostAtOncePerKey = Math.Max(MostAtOncePerKey, n);
        }
    }

    public void Exit(string key)
    {
        lock (_gate)
        {
            _running--;
            _byKey[key]--;
        }
    }

    public long? StartedAt(string workflowId)
    {
        lock (_gate)
            return _started.TryGetValue(workflowId, out var at) ? at : null;
    }
}

/// <summary>Hands every step report to <see cref="Handler"/>, once set.</summary>
public sealed class BenchObserver : IWorkflowObserver
{
    public Action<StepReport>? Handler { get; set; }

    public void OnStep(StepReport report) => Handler?.Invoke(report);
}

/// <summary>W11: one step whose result is a string of the input's length (quotes inside, escaped in its JSON).</summary>
public sealed class LargeResultWorkflow : IWorkflow<int, int>
{
    public async Task<int> RunAsync(IWorkflowContext context, int chars)
    {
        var result = await context.StepAsync("make", () => string.Create(chars, chars, (span, _) =>
        {
            span.Fill('a');
            for (var i = 0; i < span.Length; i += 100)
                span[i] = '"';
        }));
        return result.Length;
    }
}

/// <summary>W1's replay: sequential steps, then a failure while <see cref="Switch.FailAtEnd"/> is set, so that a resume replays them all.</summary>
public sealed class ReplayableWorkflow(ReplayableWorkflow.Switch control) : IWorkflow<int, int>
{
    public sealed class Switch
    {
        private volatile bool _failAtEnd;

        public bool FailAtEnd
        {
            get => _failAtEnd;
            set => _failAtEnd = value;
        }
    }

    public async Task<int> RunAsync(IWorkflowContext context, int steps)
    {
        var sum = 0;
        for (var i = 0; i < steps; i++)
        {
            var n = i;
            sum += (await context.StepAsync("step", () => new Payload(n, "payload-" + n))).I;
        }
        return control.FailAtEnd ? throw new InvalidOperationException("fails once, so that a resume replays every step") : sum;
    }
}
