using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Advanced;

namespace Durable.Actors.Testing;

/// <summary>How <see cref="CrashTest.RunAsync"/> runs.</summary>
public sealed record CrashTestOptions
{
    /// <summary>The id of the workflow under test.</summary>
    public string WorkflowId { get; init; } = "crash-test";

    /// <summary>Signals and the cancellation to send while it runs, in order (see <see cref="Testing.Send"/>).</summary>
    public IReadOnlyList<Send> Send { get; init; } = [];

    /// <summary>The recorder your workflow's side effects are counted with, if any: the test checks them too.</summary>
    public EffectRecorder? Effects { get; init; }

    /// <summary>Whether to crash also after each step body returned, before its record was written (on by default).</summary>
    public bool CrashAfterStepBodies { get; init; } = true;

    /// <summary>The virtual clock's time when each run starts.</summary>
    public DateTimeOffset StartTime { get; init; } = WorkflowTestHostOptions.DefaultStartTime;

    /// <summary>How long (real time) one host may take to bring the workflow to its end before the point fails.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>HOCON over the kit's, for every host.</summary>
    public string? Hocon { get; init; }

    /// <summary>A folder for the databases (one per run, deleted after it); a new temporary folder when null.</summary>
    public string? Folder { get; init; }

    /// <summary>Tests of the kit: keep a copy of each database as its crash left it, <c>crashed-write-k.db</c> or <c>crashed-body-m.db</c> in <see cref="Folder"/>.</summary>
    internal bool KeepCrashedCopies { get; init; }
}

/// <summary>
/// Crash at every point: runs a workflow once without crashes to learn its journal writes, then for each write
/// (and each step body's return) runs it again on a fresh database, crashes the host right there, starts a new host
/// on the same file, lets recovery finish, and checks the outcome against the guarantees.
/// </summary>
/// <example>
/// <code>
/// var report = await CrashTest.RunAsync(registry, "checkout", new Order("o-1", 10m), new CrashTestOptions { Effects = effects });
/// Assert.True(report.Passed, report.ToString());
/// </code>
/// </example>
public static class CrashTest
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(40);

    /// <summary>How long a host must stay quiet, with a workflow running, nothing to send and no timer armed, before it is found stuck.</summary>
    private static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(10);

    /// <summary>Runs the crash test of workflow type <paramref name="workflowType"/> with <paramref name="input"/>.</summary>
    /// <exception cref="InvalidOperationException">The run without crashes did not end (it waits for something never sent, or took longer than the timeout), or refused the start or something sent.</exception>
    public static async Task<CrashTestReport> RunAsync<TInput>(
        WorkflowRegistry registry, string workflowType, TInput input, CrashTestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        options ??= new CrashTestOptions();
        var inputJson = JsonSerializer.Serialize(input, registry.JsonOptions);
        var folder = options.Folder ?? Path.Combine(Path.GetTempPath(), "durable-actors-crash-test", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var test = new Run(registry, workflowType, inputJson, options, folder);
            var baseline = await test.BaselineAsync(cancellationToken).ConfigureAwait(false);
            var runs = new List<CrashRun>();
            for (var k = 1; k <= baseline.Writes; k++)
                runs.Add(await test.CrashAsync(new CrashPlan(k, null), baseline, cancellationToken).ConfigureAwait(false));
            if (options.CrashAfterStepBodies)
            {
                for (var m = 1; m <= baseline.Bodies; m++)
                    runs.Add(await test.CrashAsync(new CrashPlan(null, m), baseline, cancellationToken).ConfigureAwait(false));
            }
            return new CrashTestReport(options.WorkflowId, baseline.Outcome, baseline.Writes, baseline.Bodies, runs);
        }
        finally
        {
            if (options.Folder is null)
                TryDelete(folder);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open for a moment; the temporary folder is the OS's to clean.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>What the run without crashes did.</summary>
    private sealed record Baseline(
        int Writes,
        int Bodies,
        string Outcome,
        IReadOnlyDictionary<string, (string StepId, int Runs)> BodyRuns,
        IReadOnlyDictionary<string, int> Effects);

    private enum Ending
    {
        Ended,
        Crashed,
        Stuck,
        TimedOut,
    }

    private sealed class Run(WorkflowRegistry registry, string workflowType, string inputJson, CrashTestOptions options, string folder)
    {
        private int _runs;

        private string WorkflowId => options.WorkflowId;

        public async Task<Baseline> BaselineAsync(CancellationToken cancellationToken)
        {
            var database = NewDatabase();
            var clock = new VirtualClock(options.StartTime);
            var gate = new HostGate(null, clock);
            options.Effects?.Clear();
            SetPhase(1);
            var host = Start(1, database, clock, gate);
            try
            {
                await StartWorkflowAsync(host, baseline: true).ConfigureAwait(false);
                var pending = new Queue<Send>(options.Send);
                var (ending, detail) = await DriveAsync(host, clock, pending, stopOnCrash: false, baseline: true, cancellationToken).ConfigureAwait(false);
                if (ending != Ending.Ended)
                    throw new InvalidOperationException($"The run of '{WorkflowId}' without crashes did not end: {detail}");
                if (pending.Count > 0)
                    throw new InvalidOperationException($"The run of '{WorkflowId}' without crashes ended before {pending.Peek()} was sent ({pending.Count} of {options.Send.Count} never sent)");
                var outcome = Outcome(await DurableWorkflows.GetStatusAsync(host.System, WorkflowId, cancellationToken).ConfigureAwait(false));
                var effects = (options.Effects?.Records ?? []).GroupBy(r => r.Effect, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                return new Baseline(gate.Committed.Count, gate.BodiesReturned, outcome, gate.BodyRuns, effects);
            }
            finally
            {
                await host.DisposeAsync().ConfigureAwait(false);
                DeleteDatabase(database);
            }
        }

        public async Task<CrashRun> CrashAsync(CrashPlan plan, Baseline baseline, CancellationToken cancellationToken)
        {
            var database = NewDatabase();
            var clock = new VirtualClock(options.StartTime);
            var first = new HostGate(plan, clock);
            options.Effects?.Clear();
            SetPhase(1);
            var pending = new Queue<Send>(options.Send);
            var failures = new List<CrashFailure>();
            var point = plan.AfterWrite is { } k ? $"after journal write {k}" : $"after step body {plan.AfterBody} returned";
            IReadOnlyList<WorkflowStatus> atCrash = [];
            string? crashStep = null;
            try
            {
                var host = Start(1, database, clock, first);
                try
                {
                    if (await StartWorkflowAsync(host, baseline: false).ConfigureAwait(false))
                        await DriveAsync(host, clock, pending, stopOnCrash: true, baseline: false, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // The crash: nothing more is admitted to the journal, the system is torn down, the lease released.
                    await host.DisposeAsync().ConfigureAwait(false);
                }
                point = first.CrashPoint ?? $"{point} (not reached: the run ended first)";
                atCrash = Fold(first.Committed);
                crashStep = first.CrashStep.Key;
                if (options.KeepCrashedCopies)
                {
                    var copy = Path.Combine(folder, plan.AfterWrite is { } w ? $"crashed-write-{w}.db" : $"crashed-body-{plan.AfterBody}.db");
                    foreach (var suffix in new[] { "", "-wal" })
                    {
                        if (File.Exists(database + suffix))
                            File.Copy(database + suffix, copy + suffix, overwrite: true);
                    }
                }

                // Only what the crashed host did not make durable is sent again, in order.
                var delivered = first.Committed.SelectMany(w => w.Write.Changes)
                    .Count(c => c.WorkflowId == WorkflowId && c.Kind is JournalChangeKind.SignalReceived or JournalChangeKind.CancelRequested);
                pending = new Queue<Send>(options.Send.Skip(delivered));

                // The restart takes a second of the clock; the new host finds itself alone on the file.
                clock.Advance(TimeSpan.FromSeconds(1));
                SetPhase(2);
                var second = new HostGate(null, clock);
                var recovery = Start(2, database, clock, second);
                try
                {
                    var (ending, detail) = await DriveAsync(recovery, clock, pending, stopOnCrash: false, baseline: false, cancellationToken).ConfigureAwait(false);
                    if (ending != Ending.Ended)
                        failures.Add(new CrashFailure(point, null, null, $"after recovery the workflow did not end: {detail}"));
                    var all = await DurableWorkflows.ListAsync(recovery.System, cancellationToken).ConfigureAwait(false);
                    Check(point, baseline, atCrash, first, second, all, failures);
                }
                finally
                {
                    await recovery.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Add(new CrashFailure(point, null, null, $"the test host failed: {e.GetType().Name}: {e.Message}"));
            }
            finally
            {
                DeleteDatabase(database);
            }
            return new CrashRun(point, plan.AfterWrite, plan.AfterBody, crashStep, atCrash, failures);
        }

        private void Check(
            string point, Baseline baseline, IReadOnlyList<WorkflowStatus> atCrash, HostGate first, HostGate second,
            IReadOnlyList<WorkflowStatus> all, List<CrashFailure> failures)
        {
            var target = all.FirstOrDefault(w => w.WorkflowId == WorkflowId);
            var outcome = Outcome(target);
            if (outcome != baseline.Outcome)
                failures.Add(new CrashFailure(point, null, null, $"the workflow ended {outcome}; without crashes it ended {baseline.Outcome}"));
            foreach (var left in all.Where(w => w.Status == WorkflowRunStatus.Running))
                failures.Add(new CrashFailure(point, null, null, $"workflow '{left.WorkflowId}' was left RUNNING{(left.WaitingFor is { } w ? $" ({w})" : "")}"));

            var stepsAtCrash = atCrash.SelectMany(w => w.Steps).ToDictionary(s => s.Key, StringComparer.Ordinal);
            var runs1 = first.BodyRuns;
            var runs2 = second.BodyRuns;
            var keys = runs1.Keys.Concat(runs2.Keys).Concat(baseline.BodyRuns.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                var stepId = runs1.TryGetValue(key, out var r1) ? r1.StepId : runs2.TryGetValue(key, out var r2) ? r2.StepId : baseline.BodyRuns[key].StepId;
                var before = runs1.GetValueOrDefault(key).Runs;
                var after = runs2.GetValueOrDefault(key).Runs;
                var expected = baseline.BodyRuns.GetValueOrDefault(key).Runs;
                var total = before + after;
                stepsAtCrash.TryGetValue(key, out var recorded);
                if (recorded?.Status == StepStatus.Completed)
                {
                    if (after > 0)
                        failures.Add(new CrashFailure(point, key, stepId, $"it was COMPLETED before the crash, yet its body ran again after it ({Times(after)})"));
                    else if (total != expected)
                        failures.Add(new CrashFailure(point, key, stepId, $"it was COMPLETED before the crash and its body ran {Times(total)} in total; without crashes {Times(expected)}"));
                    continue;
                }
                // A crash may run again only the step it cut: IN_PROGRESS when it struck.
                var allowed = expected + (recorded?.Status == StepStatus.InProgress ? 1 : 0);
                if (total > allowed)
                    failures.Add(new CrashFailure(point, key, stepId,
                        $"its body ran {Times(total)} ({before} before the crash, {after} after); the guarantees allow {Times(allowed)} (without crashes {Times(expected)}{(allowed > expected ? ", plus one re-run of the step the crash cut" : "")})"));
            }

            if (options.Effects is not { } effects)
                return;
            var records = effects.Records;
            foreach (var effect in records.Select(r => r.Effect).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var total = records.Count(r => r.Effect == effect);
                var expected = baseline.Effects.GetValueOrDefault(effect);
                // Effects of step bodies the crash cut (not COMPLETED when it struck) may happen again.
                var cut = records.Count(r => r.Effect == effect && r.Host == 1 && r.Key is { } key
                    && (!stepsAtCrash.TryGetValue(key, out var s) || s.Status != StepStatus.Completed));
                if (total <= expected + cut)
                    continue;
                var again = records.FirstOrDefault(r => r.Effect == effect && r.Host == 2);
                var where = again is null ? "" : again.Key is null
                    ? "; recorded outside any step body after the crash: workflow code runs again on every replay, so side effects belong in steps"
                    : "";
                failures.Add(new CrashFailure(point, again?.Key, again?.StepId,
                    $"effect '{effect}' happened {Times(total)}; without crashes {Times(expected)}{(cut > 0 ? $", plus {cut} from step bodies the crash cut" : "")}{where}"));
            }
        }

        private async Task<bool> StartWorkflowAsync(KitHost host, bool baseline)
        {
            using var timeout = new CancellationTokenSource(options.RunTimeout);
            using var input = JsonDocument.Parse(inputJson);
            var start = DurableWorkflows.Client(host.System).StartAsync<JsonElement, JsonElement>(workflowType, WorkflowId, input.RootElement, timeout.Token);
            var done = await Task.WhenAny(start, host.Gate.Crashed).ConfigureAwait(false);
            if (done != start)
                return false;
            try
            {
                await start.ConfigureAwait(false);
            }
            catch (WorkflowRejectedException rejected)
            {
                throw new InvalidOperationException($"The start of '{WorkflowId}' was rejected: {rejected.Reason}");
            }
            catch (Exception) when (!baseline)
            {
                return false;
            }
            return true;
        }

        /// <summary>Runs the host until every workflow ended (or the crash), sending what is pending and moving the clock whenever it is quiet.</summary>
        private async Task<(Ending, string)> DriveAsync(KitHost host, VirtualClock clock, Queue<Send> pending, bool stopOnCrash, bool baseline, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + options.RunTimeout;
            // A host that just started has done nothing yet: its recovery is about to begin.
            host.Gate.Touch();
            // Ends when the workflow ends: then the end is seen at once, without waiting for the host to be quiet.
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            watching.CancelAfter(options.RunTimeout + options.RunTimeout);
            var ended = WaitForEndAsync(host, watching.Token);
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (stopOnCrash && host.Gate.HasCrashed)
                        return (Ending.Crashed, "crashed");
                    if (DateTime.UtcNow > deadline)
                        return (Ending.TimedOut, $"not ended within {options.RunTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: {await DescribeRunningAsync(host).ConfigureAwait(false)}");
                    var quiet = await host.IsQuietAsync(Settle).ConfigureAwait(false);
                    if ((quiet || ended.IsCompleted) && !await AnyRunningAsync(host).ConfigureAwait(false))
                        return (Ending.Ended, "ended");
                    if (quiet && pending.Count > 0)
                    {
                        await SendAsync(host, pending.Dequeue(), baseline).ConfigureAwait(false);
                        host.Gate.Touch();
                        continue;
                    }
                    if (quiet && clock.NextDue is not null)
                    {
                        clock.FireNext(DateTimeOffset.MaxValue);
                        host.Gate.Touch();
                        continue;
                    }
                    if (host.Gate.IsQuiet(StuckAfter))
                        return (Ending.Stuck, $"it waits and nothing more is sent or due: {await DescribeRunningAsync(host).ConfigureAwait(false)}");
                    await Task.WhenAny(Task.Delay(5, cancellationToken), host.Gate.Crashed, ended.IsCompleted ? Task.Delay(Timeout.Infinite, cancellationToken) : ended).ConfigureAwait(false);
                }
            }
            finally
            {
                // Stops watching (the host may be gone: its crash).
                await watching.CancelAsync().ConfigureAwait(false);
            }
        }

        /// <summary>Ends when the workflow ended, however it ended (or is not found), or when <paramref name="cancellationToken"/> is cancelled.</summary>
        private async Task WaitForEndAsync(KitHost host, CancellationToken cancellationToken)
        {
            try
            {
                await DurableWorkflows.Client(host.System).GetHandle<JsonElement>(WorkflowId).GetResultAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DurableActorsException or OperationCanceledException or Akka.Actor.AskTimeoutException)
            {
                // Failed, cancelled, not found, or no longer watched: the end is read from the list all the same.
            }
        }

        private async Task SendAsync(KitHost host, Send send, bool baseline)
        {
            object message = send.IsCancellation
                ? new CancelWorkflow(WorkflowId, send.CancelReason)
                : new SignalWorkflow(WorkflowId, send.SignalName!, send.PayloadJson);
            var ask = host.Coordinator.Ask<object>(message, options.RunTimeout);
            if (await Task.WhenAny(ask, host.Gate.Crashed).ConfigureAwait(false) != ask)
                return;
            object reply;
            try
            {
                reply = await ask.ConfigureAwait(false);
            }
            catch (Exception) when (host.Gate.HasCrashed)
            {
                return;
            }
            if (reply is SignalDelivered or CancellationRequested)
                return;
            var problem = $"{send} was answered {reply}";
            if (baseline)
                throw new InvalidOperationException($"In the run of '{WorkflowId}' without crashes, {problem}");
            throw new InvalidOperationException(problem);
        }

        private static async Task<bool> AnyRunningAsync(KitHost host) =>
            (await DurableWorkflows.ListAsync(host.System, new WorkflowQuery { Status = WorkflowRunStatus.Running, Limit = 1 }).ConfigureAwait(false)).Items.Count > 0;

        private static async Task<string> DescribeRunningAsync(KitHost host)
        {
            var running = (await DurableWorkflows.ListAsync(host.System, new WorkflowQuery { Status = WorkflowRunStatus.Running, Limit = 10 }).ConfigureAwait(false)).Items;
            var described = new List<string>();
            foreach (var w in running)
            {
                var status = await DurableWorkflows.GetStatusAsync(host.System, w.WorkflowId).ConfigureAwait(false);
                described.Add($"'{w.WorkflowId}' RUNNING{(status?.WaitingFor is { } waiting ? $", {waiting}" : "")}");
            }
            return described.Count == 0 ? "nothing running" : string.Join("; ", described);
        }

        private KitHost Start(int number, string database, VirtualClock clock, HostGate gate) =>
            KitHost.Start(number, database, registry, clock, gate, "OFF", options.Hocon, observer: null);

        private void SetPhase(int phase)
        {
            if (options.Effects is { } effects)
                effects.Phase = phase;
        }

        private string NewDatabase() => Path.Combine(folder, $"run-{++_runs}.db");

        private static void DeleteDatabase(string database)
        {
            foreach (var suffix in new[] { "", "-wal", "-shm", "-hosts.lock", "-startup.lock" })
            {
                try
                {
                    File.Delete(database + suffix);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    internal static string Times(int n) => n == 1 ? "once" : $"{n} times";

    /// <summary>How a workflow ended, as the report compares it.</summary>
    private static string Outcome(WorkflowStatus? status) => status switch
    {
        null => "nowhere (not found)",
        { Status: WorkflowRunStatus.Completed } => $"COMPLETED {status.ResultJson}",
        { Status: WorkflowRunStatus.Failed } => $"FAILED {status.Error}",
        { Status: WorkflowRunStatus.Cancelled } => $"CANCELLED {status.Error}",
        _ => status.Status.ToString().ToUpperInvariant(),
    };

    /// <summary>The workflows as the committed writes leave them.</summary>
    internal static IReadOnlyList<WorkflowStatus> Fold(IReadOnlyList<CommittedWrite> writes) => JournalWrite.Fold(writes.Select(w => w.Write));
}
