using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;

namespace Durable.Actors.Benchmarks;

/// <summary>
/// One workload in its own process; prints one line <c>RESULT {json}</c>. W1 to W3 are measured after one unmeasured
/// round of the same size on the same database (the JIT's warm-up: a host runs for longer than one burst); W4 is
/// measured cold, from the spawn of a fresh process.
/// </summary>
internal static class Child
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string workload, string database, string synchronous, int count, int steps, string? effects, int killAt)
    {
        var spawned = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var recover = workload == "w4-recover";
        var config = ConfigurationFactory.ParseString($$"""
            durable-actors.database-path = "{{database.Replace("\\", "\\\\")}}"
            durable-actors.sqlite.synchronous = {{synchronous}}
            durable-actors.recover-on-start = {{(recover ? "on" : "off")}}
            akka.loglevel = ERROR
            akka.stdout-loglevel = OFF
            akka.log-dead-letters = off
            {{Environment.GetEnvironmentVariable("DURABLE_BENCH_HOCON")}}
            """);
        var stepMicroseconds = new List<double>();
        var warmupMicroseconds = new List<double>();
        using var sideEffects = effects is null ? null : new SideEffectFile(effects, killAt, () => Console.WriteLine("KILL-ME"));
        var registry = new WorkflowRegistry()
            .Add("warmup", () => new SequentialWorkflow(warmupMicroseconds))
            .Add("sequential", () => new SequentialWorkflow(stepMicroseconds))
            .Add("steps", () => new StepsWorkflow())
            .Add("onboarding-shape", () => new OnboardingShapeWorkflow())
            .Add("two-step", () => new TwoStepWorkflow());
        if (sideEffects is not null)
        {
            var allStarted = workload == "w4-run" ? new StartBarrier(count) : null;
            registry.Add("side-effects", () => new SideEffectWorkflow(sideEffects, allStarted));
        }

        using var system = ActorSystem.Create("bench", DurableWorkflows.CreateSetup(config));
        var coordinator = DurableWorkflows.Start(system, registry);
        object result;
        switch (workload)
        {
            case "w1":
                await Run(coordinator, new StartWorkflow("warmup", "warmup", steps.ToString(CultureInfo.InvariantCulture)));
                await Run(coordinator, new StartWorkflow("w1", "sequential", steps.ToString(CultureInfo.InvariantCulture)));
                var sorted = stepMicroseconds.Order().ToArray();
                result = new { meanUs = sorted.Average(), p50Us = Percentile(sorted, 0.50), p99Us = Percentile(sorted, 0.99) };
                break;
            case "w2":
                await RunAll(coordinator, Enumerable.Range(0, count).Select(i => new StartWorkflow($"warmup-{i}", "steps", steps.ToString(CultureInfo.InvariantCulture))));
                var w2 = await RunAll(coordinator, Enumerable.Range(0, count).Select(i => new StartWorkflow($"w2-{i}", "steps", steps.ToString(CultureInfo.InvariantCulture))));
                result = new { seconds = w2.TotalSeconds, stepsPerSecond = count * steps / w2.TotalSeconds, workflowsPerSecond = count / w2.TotalSeconds };
                break;
            case "w3":
                await RunAll(coordinator, Enumerable.Range(0, count).Select(i => new StartWorkflow($"warmup-{i}", "onboarding-shape", "0")));
                var w3 = await RunAll(coordinator, Enumerable.Range(0, count).Select(i => new StartWorkflow($"w3-{i}", "onboarding-shape", "0")));
                result = new { seconds = w3.TotalSeconds, workflowsPerSecond = count / w3.TotalSeconds };
                break;
            case "w4-run":
                // Killed by the parent once KILL-ME is printed; never finishes on its own.
                await RunAll(coordinator, Enumerable.Range(0, count).Select(i => new StartWorkflow($"w4-{i:0000}", "side-effects", steps.ToString(CultureInfo.InvariantCulture))));
                result = new { finished = true };
                break;
            case "w4-recover":
                // Recovery-on-start resumes them; these requests join those runs and wait for their ends.
                var pending = await DurableWorkflows.GetPendingAsync(system);
                await RunAll(coordinator, pending.Select(id => new ResumeWorkflow(id)));
                result = new { recovered = pending.Count, secondsSinceSpawn = (DateTime.UtcNow - spawned).TotalSeconds };
                break;
            case "w5":
                _settle = system.Settings.Config.GetTimeSpan("durable-actors.passivate-after") + TimeSpan.FromSeconds(2);
                // --steps carries the batch size and --kill-at the baseline count (the child's options are generic).
                result = await RetainedMemoryAsync(coordinator, count, batch: steps, baseline: killAt);
                break;
            case "w6":
                result = await InspectAsync(system, coordinator, longSteps: steps);
                break;
            default:
                Console.Error.WriteLine($"error: unknown workload '{workload}'");
                return 2;
        }

        var peak = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(new { result, peakRssMiB = peak }));
        await system.Terminate();
        return 0;
    }

    /// <summary>
    /// W5: <paramref name="count"/> two-step workflows, <paramref name="batch"/> at a time (every 100th fails on purpose);
    /// the managed heap after a full, compacting GC and the RSS, after <paramref name="baseline"/> workflows and after all:
    /// at once (with the last batches' actors still alive) and once idle actors have passivated.
    /// </summary>
    private static async Task<object> RetainedMemoryAsync(IActorRef coordinator, int count, int batch, int baseline)
    {
        var started = Stopwatch.GetTimestamp();
        (double HeapMiB, double RssMiB) atBaseline = default, busyAtBaseline = default;
        var paused = TimeSpan.Zero;
        for (var done = 0; done < count; done += batch)
        {
            var size = Math.Min(batch, count - done);
            await Task.WhenAll(Enumerable.Range(done, size).Select(i =>
                coordinator.Ask<object>(new StartWorkflow($"w5-{i:000000}", "two-step", (i % 100 == 99 ? 1 : 0).ToString(System.Globalization.CultureInfo.InvariantCulture)), Timeout)));
            if (done + size == baseline)
            {
                busyAtBaseline = Memory();
                atBaseline = await SettledMemoryAsync();
                paused += _settle;
            }
        }
        var seconds = (Stopwatch.GetElapsedTime(started) - paused).TotalSeconds;
        var busyAtEnd = Memory();
        var atEnd = await SettledMemoryAsync();
        return new
        {
            seconds,
            workflowsPerSecond = count / seconds,
            heapAtBaselineMiB = atBaseline.HeapMiB,
            heapAtEndMiB = atEnd.HeapMiB,
            heapGrowthMiB = atEnd.HeapMiB - atBaseline.HeapMiB,
            rssAtBaselineMiB = atBaseline.RssMiB,
            rssAtEndMiB = atEnd.RssMiB,
            rssGrowthPercent = (atEnd.RssMiB / atBaseline.RssMiB - 1) * 100,
            busyHeapAtBaselineMiB = busyAtBaseline.HeapMiB,
            busyHeapAtEndMiB = busyAtEnd.HeapMiB,
        };
    }

    // durable-actors.passivate-after and 2 s more: the workflows of the last batches are still in memory until their
    // actors passivate, so what a host holds is measured once they have.
    private static TimeSpan _settle = TimeSpan.FromSeconds(7);

    private static async Task<(double HeapMiB, double RssMiB)> SettledMemoryAsync()
    {
        await Task.Delay(_settle);
        return Memory();
    }

    private static (double HeapMiB, double RssMiB) Memory()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: false) / (1024.0 * 1024.0), process.WorkingSet64 / (1024.0 * 1024.0));
    }

    /// <summary>
    /// W6, on the database W5 left: adds one workflow of <paramref name="longSteps"/> steps, then times the reads a person
    /// or a dashboard makes, each the median of 21 runs after one unmeasured run.
    /// </summary>
    private static async Task<object> InspectAsync(ActorSystem system, IActorRef coordinator, int longSteps)
    {
        await Run(coordinator, new StartWorkflow("w6-long", "steps", longSteps.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var newest = await DurableWorkflows.ListAsync(system, new WorkflowQuery());
        var ids = newest.Items.Select(w => w.WorkflowId).Where(id => id != "w6-long").ToList();
        var i = 0;
        return new
        {
            newest50Ms = await MedianMs(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 50 })),
            failed50Ms = await MedianMs(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { Status = WorkflowRunStatus.Failed, Limit = 50 })),
            secondPageMs = await MedianMs(() => DurableWorkflows.ListAsync(system, new WorkflowQuery { Limit = 50, After = newest.NextCursor })),
            statusMs = await MedianMs(() => DurableWorkflows.GetStatusAsync(system, ids[i++ % ids.Count])),
            longStatusMs = await MedianMs(() => DurableWorkflows.GetStatusAsync(system, "w6-long")),
        };
    }

    private static async Task<double> MedianMs<T>(Func<Task<T>> read)
    {
        await read();
        var times = new double[21];
        for (var n = 0; n < times.Length; n++)
        {
            var started = Stopwatch.GetTimestamp();
            await read();
            times[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static async Task Run(IActorRef coordinator, IWorkflowCommand command)
    {
        var reply = await coordinator.Ask<object>(command, Timeout);
        if (reply is not WorkflowCompleted)
            throw new InvalidOperationException($"{command.WorkflowId} did not complete: {reply}");
    }

    private static async Task<TimeSpan> RunAll(IActorRef coordinator, IEnumerable<IWorkflowCommand> commands)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(commands.Select(c => Run(coordinator, c)));
        return Stopwatch.GetElapsedTime(started);
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
