using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;

namespace Durable.Actors.Benchmarks;

/// <summary>
/// One workload in its own process; prints one line <c>RESULT {json}</c>. W1 to W3 are measured after one unmeasured
/// round of the same size on the same database (the JIT's warm-up: a host runs for longer than one burst); W4 is
/// measured cold, from the spawn of a fresh process, and so is W7's new host. W7 to W9 run no warm-up round but W9's
/// 100 unmeasured signals.
/// </summary>
internal static class Child
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string workload, string database, string synchronous, int count, int steps, string? effects, int killAt)
    {
        var entered = DateTime.UtcNow;
        var spawned = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var recover = workload is "w4-recover" or "w7-restart";
        // W9 signals workflows that wait in memory: a wait with no timeout is put away after passivate-after of
        // idleness (5 s by default), so W9 keeps them longer than its signals take, whatever DURABLE_BENCH_HOCON says.
        var keepInMemory = workload switch
        {
            "w9" => "durable-actors.passivate-after = 120s",
            // W12: a completed workflow is kept a minute (the sweep's other settings are the defaults).
            "w12" => "durable-actors.retention.completed = 1m",
            _ => "",
        };
        var config = ConfigurationFactory.ParseString($$"""
            durable-actors.database-path = "{{database.Replace("\\", "\\\\")}}"
            durable-actors.sqlite.synchronous = {{synchronous}}
            durable-actors.recover-on-start = {{(recover ? "on" : "off")}}
            akka.loglevel = ERROR
            akka.stdout-loglevel = OFF
            akka.log-dead-letters = off
            {{Environment.GetEnvironmentVariable("DURABLE_BENCH_HOCON")}}
            {{keepInMemory}}
            """);
        var stepMicroseconds = new List<double>();
        var warmupMicroseconds = new List<double>();
        using var sideEffects = effects is null ? null : new SideEffectFile(effects, killAt, () => Console.WriteLine("KILL-ME"));
        var replayable = new ReplayableWorkflow.Switch();
        var registry = new WorkflowRegistry()
            .Add("warmup", () => new SequentialWorkflow(warmupMicroseconds))
            .Add("sequential", () => new SequentialWorkflow(stepMicroseconds))
            .Add("steps", () => new StepsWorkflow())
            .Add("onboarding-shape", () => new OnboardingShapeWorkflow())
            .Add("two-step", () => new TwoStepWorkflow())
            .Add("sleeper", () => new SleeperWorkflow())
            .Add("storm", () => new StormWorkflow())
            .Add("failover", () => new FailoverWorkflow())
            .Add("large-result", () => new LargeResultWorkflow())
            .Add("replayable", () => new ReplayableWorkflow(replayable));
        var ticks = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        registry.Add("tick", () => new TickWorkflow(ticks));
        var queueProbe = new QueueProbe();
        registry.Add("queued", () => new QueuedWorkflow(queueProbe))
            .AddQueue(new QueueOptions("bench") { Concurrency = QueueConcurrency, KeyConcurrency = 1 });
        var signalBodies = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        registry.Add("signalled", () => new SignalledWorkflow(id => signalBodies[id] = Stopwatch.GetTimestamp()));
        if (workload == "cluster-node")
            // --count carries the port, --steps the seed's port, --db the PostgreSQL connection string and --kill-at 1
            // recovery on start (the failover's nodes: a bucket that moves resumes its workflows).
            return await ClusterBench.NodeAsync(count, steps, database, registry, recover: killAt == 1);
        var observer = new BenchObserver();
        if (sideEffects is not null)
        {
            var allStarted = workload == "w4-run" ? new StartBarrier(count) : null;
            registry.Add("side-effects", () => new SideEffectWorkflow(sideEffects, allStarted));
        }

        using var system = ActorSystem.Create("bench", DurableWorkflows.CreateSetup(config));
        var coordinator = DurableWorkflows.Start(system, registry, observer);
        var passivateAfter = system.Settings.Config.GetTimeSpan("durable-actors.passivate-after");
        _settle = passivateAfter + TimeSpan.FromSeconds(2);
        // W7: passivate-after and 1 s (or passivate-after, if shorter) later, the idle actors have stopped.
        _asleep = passivateAfter + Min(TimeSpan.FromSeconds(1), passivateAfter);
        object result;
        switch (workload)
        {
            case "w1":
                await Run(coordinator, new StartWorkflow("warmup", "warmup", steps.ToString(CultureInfo.InvariantCulture)));
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                await Run(coordinator, new StartWorkflow("w1", "sequential", steps.ToString(CultureInfo.InvariantCulture)));
                var allocatedPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)steps;
                var sorted = stepMicroseconds.Order().ToArray();
                var replay = await ReplayAsync(coordinator, replayable, steps);
                result = new
                {
                    meanUs = sorted.Average(), p50Us = Percentile(sorted, 0.50), p99Us = Percentile(sorted, 0.99),
                    allocatedKBPerStep = allocatedPerStep / 1024, replayMs = replay.Milliseconds, allocatedKBPerReplayedStep = replay.AllocatedPerStep / 1024,
                };
                break;
            case "w1-long":
                // --steps carries the long workflow's steps; both are recorded, then their runs fail, for a new process
                // to resume them.
                replayable.FailAtEnd = true;
                foreach (var (id, recorded) in new[] { ("w1-first", 100), ("w1-long", steps) })
                {
                    var failedRun = await coordinator.Ask<object>(new StartWorkflow(id, "replayable", recorded.ToString(CultureInfo.InvariantCulture)), Timeout);
                    if (failedRun is not WorkflowFailed)
                        throw new InvalidOperationException($"{id}: expected its first run to fail, got {failedRun}");
                }
                result = new { recorded = steps };
                break;
            case "w1-resume":
                // A new process (recovery-on-start off): its first resume (100 steps) pays the start-up of the journal,
                // the actors and the JIT; the long one after it reads its journal, replays every step and completes.
                var firstStarted = Stopwatch.GetTimestamp();
                await Run(coordinator, new ResumeWorkflow("w1-first"));
                var firstMs = Stopwatch.GetElapsedTime(firstStarted).TotalMilliseconds;
                var resumeStarted = Stopwatch.GetTimestamp();
                await Run(coordinator, new ResumeWorkflow("w1-long"));
                result = new { firstResumeMs = firstMs, resumeMs = Stopwatch.GetElapsedTime(resumeStarted).TotalMilliseconds };
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
                // --steps carries the batch size and --kill-at the baseline count (the child's options are generic).
                result = await RetainedMemoryAsync(coordinator, count, batch: steps, baseline: killAt);
                break;
            case "w6":
                result = await InspectAsync(system, coordinator, longSteps: steps);
                break;
            case "w7":
                // --steps carries the batch size.
                result = await SleepersAsync(coordinator, count, batch: steps);
                break;
            case "w10-fill":
                // --steps carries the batch size.
                result = await FillAsync(coordinator, count, batch: steps);
                break;
            case "w7-restart":
                result = await RestartAsync(coordinator, spawned, entered);
                break;
            case "w8":
                result = await TimerStormAsync(system, coordinator, observer, count, batch: steps);
                break;
            case "w9":
                result = await SignalRoundTripsAsync(system, observer, signalBodies, count);
                break;
            case "w11":
                // --steps carries the result's length in characters.
                result = await LargeResultsAsync(coordinator, count, steps);
                break;
            case "w13":
                result = await QueueAsync(system, queueProbe, count);
                break;
            case "w14":
                // --steps carries the seconds to run for.
                result = await SchedulesAsync(system, ticks, count, TimeSpan.FromSeconds(steps));
                break;
            case "w12":
                // --steps carries the rate of starts per second.
                result = await ChurnAsync(coordinator, database, count, rate: steps);
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

    /// <summary>
    /// W1's replay: a workflow of <paramref name="steps"/> steps that fails after them, then a resume in the same host,
    /// which replays every step (the actor stays in memory: no recovery read) and completes; its time and what the
    /// process allocated per replayed step meanwhile.
    /// </summary>
    private static async Task<(double Milliseconds, double AllocatedPerStep)> ReplayAsync(IActorRef coordinator, ReplayableWorkflow.Switch replayable, int steps)
    {
        replayable.FailAtEnd = true;
        var failed = await coordinator.Ask<object>(new StartWorkflow("w1-replay", "replayable", steps.ToString(CultureInfo.InvariantCulture)), Timeout);
        if (failed is not WorkflowFailed)
            throw new InvalidOperationException($"w1-replay: expected its first run to fail, got {failed}");
        replayable.FailAtEnd = false;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        await Run(coordinator, new ResumeWorkflow("w1-replay"));
        var elapsed = Stopwatch.GetElapsedTime(started);
        return (elapsed.TotalMilliseconds, (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)steps);
    }

    /// <summary>
    /// W11: what the host still holds once <paramref name="count"/> workflows, each one step returning a string of
    /// <paramref name="chars"/> characters, have ended and their actors passivated: the managed heap after a full
    /// compacting GC, less the same measure before them. The engine keeps none of the results; what is left is buffers
    /// the shared array pool caches per thread (the README's "Large results after passivation").
    /// </summary>
    private static async Task<object> LargeResultsAsync(IActorRef coordinator, int count, int chars)
    {
        var before = Memory();
        await RunAll(coordinator, Enumerable.Range(0, count).Select(i =>
            new StartWorkflow($"w11-{i}", "large-result", chars.ToString(CultureInfo.InvariantCulture))));
        var after = await SettledMemoryAsync();
        return new { heldMiB = after.HeapMiB - before.HeapMiB };
    }

    /// <summary>W14: each schedule ticks this often (all at the same instants: the worst case).</summary>
    private static readonly TimeSpan TickEvery = TimeSpan.FromSeconds(10);

    /// <summary>
    /// W14 (schedules): <paramref name="count"/> schedules every 10 s, all due at the same instants, for
    /// <paramref name="duration"/>: each tick's lateness, from its instant to its workflow's step start (p50, p99, the
    /// worst), the ticks fired, and the process's RSS and CPU (in the seconds between the last tick's workflows and the
    /// next tick, and overall).
    /// </summary>
    private static async Task<object> SchedulesAsync(ActorSystem system, System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> started,
        int count, TimeSpan duration)
    {
        var schedules = DurableWorkflows.Client(system).Schedules;
        for (var i = 0; i < count; i++)
            await schedules.CreateAsync(new ScheduleSpec($"w14-{i:0000}", "tick") { Every = TickEvery, InputJson = "1", Overlap = ScheduleOverlap.AllowAll });
        using var process = Process.GetCurrentProcess();
        var cpuAtStart = process.TotalProcessorTime;
        var wallAtStart = Stopwatch.GetTimestamp();
        // Between ticks: CPU from 6 s to 9 s after each instant (the tick's workflows have ended by then).
        var quietCpu = TimeSpan.Zero;
        var quietWall = TimeSpan.Zero;
        var end = DateTimeOffset.UtcNow + duration;
        var quietRss = new List<double>();
        while (DateTimeOffset.UtcNow < end)
        {
            var now = DateTimeOffset.UtcNow;
            var lastTick = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TickEvery.Ticks, TimeSpan.Zero);
            var quietFrom = lastTick + TimeSpan.FromSeconds(6);
            var quietTo = lastTick + TimeSpan.FromSeconds(9);
            if (now < quietFrom)
            {
                await Task.Delay(quietFrom - now);
                continue;
            }
            if (now >= quietTo)
            {
                await Task.Delay(lastTick + TickEvery + TimeSpan.FromSeconds(6) - now);
                continue;
            }
            process.Refresh();
            var (cpu, wall) = (process.TotalProcessorTime, Stopwatch.GetTimestamp());
            await Task.Delay(quietTo - DateTimeOffset.UtcNow);
            process.Refresh();
            quietCpu += process.TotalProcessorTime - cpu;
            quietWall += Stopwatch.GetElapsedTime(wall);
            quietRss.Add(process.WorkingSet64 / (1024.0 * 1024.0));
        }
        // The last ticks' workflows end (their lateness is far below this).
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(3, duration.TotalSeconds)));
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpuAtStart).TotalSeconds;
        var wallSeconds = Stopwatch.GetElapsedTime(wallAtStart).TotalSeconds;
        var lateness = started.Select(s => (s.Value - DateTimeOffset.Parse(s.Key[(s.Key.IndexOf('@', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture)).TotalMilliseconds)
            .Order().ToArray();
        return new
        {
            ticks = lateness.Length,
            p50Ms = lateness.Length == 0 ? 0 : Percentile(lateness, 0.50),
            p99Ms = lateness.Length == 0 ? 0 : Percentile(lateness, 0.99),
            maxMs = lateness.Length == 0 ? 0 : lateness[^1],
            quietCpuPercent = quietWall > TimeSpan.Zero ? 100 * quietCpu / quietWall : 0,
            cpuPercent = 100 * cpuSeconds / wallSeconds,
            quietRssMiB = quietRss.Count == 0 ? 0 : quietRss.Average(),
        };
    }

    /// <summary>W13: the queue's global concurrency (its key concurrency is 1).</summary>
    private const int QueueConcurrency = 50;

    /// <summary>W13: the keys the workflows are spread over.</summary>
    private const int QueueKeys = 100;

    /// <summary>
    /// W13 (queues): <paramref name="count"/> one-step workflows enqueued at once (1,000 enqueues in flight) on a queue of
    /// concurrency 50 and key concurrency 1 over 100 keys: enqueues per second, workflows per second from the first
    /// enqueue to the last end, and the most that ran at once, in all and per key (the limits: 50 and 1). Then the
    /// dispatch latency on the empty queue: 200 workflows (fewer in a smaller run) enqueued one after the other, each awaited, from the call to
    /// EnqueueAsync to its step's start (a queue that polls adds its interval here).
    /// </summary>
    private static async Task<object> QueueAsync(ActorSystem system, QueueProbe probe, int count)
    {
        var client = DurableWorkflows.Client(system);
        var started = Stopwatch.GetTimestamp();
        var handles = new List<WorkflowHandle<string>>(count);
        for (var done = 0; done < count; done += 1000)
        {
            handles.AddRange(await Task.WhenAll(Enumerable.Range(done, Math.Min(1000, count - done)).Select(i =>
            {
                var key = "k" + (i % QueueKeys).ToString(CultureInfo.InvariantCulture);
                return client.EnqueueAsync<string, string>("queued", $"w13-{i:000000}", key, new EnqueueOptions("bench") { Key = key });
            })));
        }
        var enqueueSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await Task.WhenAll(handles.Select(h => h.GetResultAsync()));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var latencies = new List<double>();
        for (var i = 0; i < Math.Min(200, count); i++)
        {
            var id = $"w13-free-{i:000}";
            var before = Stopwatch.GetTimestamp();
            var handle = await client.EnqueueAsync<string, string>("queued", id, "free", new EnqueueOptions("bench") { Key = "free" });
            await handle.GetResultAsync();
            latencies.Add(Stopwatch.GetElapsedTime(before, probe.StartedAt(id)!.Value).TotalMilliseconds);
        }
        var sorted = latencies.Order().ToArray();
        return new
        {
            enqueuesPerSecond = count / enqueueSeconds,
            workflowsPerSecond = count / seconds,
            mostAtOnce = probe.MostAtOnce,
            mostAtOncePerKey = probe.MostAtOncePerKey,
            p50Ms = Percentile(sorted, 0.50),
            p99Ms = Percentile(sorted, 0.99),
        };
    }

    /// <summary>
    /// W12 (retention under churn): <paramref name="count"/> two-step workflows started at <paramref name="rate"/> a
    /// second (a tenth of them every 100 ms, each awaited on its own), with completed workflows kept a minute. Every
    /// 10 s: the database file's size with its WAL and the rows of the workflow index; per workflow, the time from its
    /// start to its end. What the sweep costs shows in the workflows completed per second and their latency before the
    /// first purge (the first sweep that finds workflows ended a minute ago runs at 2 min) and while purges run.
    /// </summary>
    private static async Task<object> ChurnAsync(IActorRef coordinator, string database, int count, int rate)
    {
        var started = Stopwatch.GetTimestamp();
        var startedAt = new double[count];
        var endedAt = new double[count];
        var completed = 0;
        var samples = new List<(double Seconds, double FileMiB, long IndexRows, int Completed)>();
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly");
            connection.Open();
            using var rows = connection.CreateCommand();
            rows.CommandText = "SELECT count(*) FROM workflow_index";
            while (true)
            {
                var wal = new FileInfo(database + "-wal");
                var bytes = new FileInfo(database).Length + (wal.Exists ? wal.Length : 0);
                samples.Add((Stopwatch.GetElapsedTime(started).TotalSeconds, bytes / (1024.0 * 1024.0), (long)rows.ExecuteScalar()!, Volatile.Read(ref completed)));
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        var perTick = Math.Max(1, rate / 10);
        for (var next = 0; next < count; next += perTick)
        {
            var due = TimeSpan.FromSeconds((double)next / rate) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            for (var i = next; i < Math.Min(count, next + perTick); i++)
            {
                var index = i;
                startedAt[index] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                _ = coordinator.Ask<object>(new StartWorkflow($"w12-{index:000000}", "two-step", "0"), Timeout).ContinueWith(t =>
                {
                    if (t.Result is not WorkflowCompleted)
                        throw new InvalidOperationException($"w12-{index}: {t.Result}");
                    endedAt[index] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    Interlocked.Increment(ref completed);
                }, TaskScheduler.Default);
            }
        }
        while (Volatile.Read(ref completed) < count)
            await Task.Delay(100);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stop.CancelAsync();
        await sampler;

        // Before the first purge: from 10 s (the JIT's warm-up) to 2 min; while purging: from 2 min to the last start.
        var lastStart = startedAt[^1];
        (double PerSecond, double P50, double P99) Phase(double from, double to)
        {
            var latencies = Enumerable.Range(0, count).Where(i => startedAt[i] >= from && startedAt[i] < to)
                .Select(i => (endedAt[i] - startedAt[i]) * 1000).Order().ToArray();
            var ended = endedAt.Count(e => e >= from && e < to);
            return (ended / (to - from), Percentile(latencies, 0.50), Percentile(latencies, 0.99));
        }
        var quiet = Phase(10, 120);
        var purging = Phase(120, lastStart);
        double FileAt(double at) => samples.Where(s => s.Seconds <= at + 1).Select(s => s.FileMiB).LastOrDefault();
        return new
        {
            seconds,
            quietPerSecond = quiet.PerSecond, quietP50Ms = quiet.P50, quietP99Ms = quiet.P99,
            purgingPerSecond = purging.PerSecond, purgingP50Ms = purging.P50, purgingP99Ms = purging.P99,
            fileAt2MinMiB = FileAt(120), fileAt3MinMiB = FileAt(180), fileAt4MinMiB = FileAt(240),
            fileAtEndMiB = samples[^1].FileMiB, fileMaxMiB = samples.Max(s => s.FileMiB),
            fileMaxAfter3MinMiB = samples.Where(s => s.Seconds >= 180).Select(s => s.FileMiB).DefaultIfEmpty().Max(),
            indexRowsAtEnd = samples[^1].IndexRows, indexRowsMax = samples.Max(s => s.IndexRows),
            series = samples.Select(s => new { s.Seconds, s.FileMiB, s.IndexRows, s.Completed }).ToArray(),
        };
    }

    // durable-actors.passivate-after and 2 s more: the workflows of the last batches are still in memory until their
    // actors passivate, so what a host holds is measured once they have.
    private static TimeSpan _settle = TimeSpan.FromSeconds(7);

    private static TimeSpan _asleep = TimeSpan.FromSeconds(6);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

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
    /// W7: <paramref name="count"/> workflows, <paramref name="batch"/> started at a time, each one step then a sleep of an
    /// hour (each start is answered <see cref="WorkflowWaiting"/> once the workflow is put away); the host's memory once
    /// their actors have passivated: RSS as it is, then the managed heap and the RSS after a full compacting GC.
    /// </summary>
    /// <summary>W10: <paramref name="count"/> one-step workflows, <paramref name="batch"/> at a time, for the CLI to read.</summary>
    private static async Task<object> FillAsync(IActorRef coordinator, int count, int batch)
    {
        var started = Stopwatch.GetTimestamp();
        for (var done = 0; done < count; done += batch)
            await RunAll(coordinator, Enumerable.Range(done, Math.Min(batch, count - done)).Select(i => new StartWorkflow($"w10-{i:000000}", "steps", "1")));
        return new { workflowsPerSecond = count / Stopwatch.GetElapsedTime(started).TotalSeconds };
    }

    private static async Task<object> SleepersAsync(IActorRef coordinator, int count, int batch)
    {
        var started = Stopwatch.GetTimestamp();
        for (var done = 0; done < count; done += batch)
        {
            var size = Math.Min(batch, count - done);
            var replies = await Task.WhenAll(Enumerable.Range(done, size).Select(i =>
                coordinator.Ask<object>(new StartWorkflow($"w7-{i:000000}", "sleeper", i.ToString(CultureInfo.InvariantCulture)), Timeout)));
            if (replies.FirstOrDefault(r => r is not WorkflowWaiting) is { } other)
                throw new InvalidOperationException($"A sleeper was not put away: {other}");
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await Task.Delay(_asleep);
        var rssAsIs = RssMiB();
        var committedAsIs = GC.GetGCMemoryInfo().TotalCommittedBytes / (1024.0 * 1024.0);
        var (heap, rss) = Memory();
        return new
        {
            seconds,
            workflowsPerSecond = count / seconds,
            rssAsIsMiB = rssAsIs,
            gcCommittedAsIsMiB = committedAsIs,
            heapMiB = heap,
            rssMiB = rss,
            gcCommittedMiB = GC.GetGCMemoryInfo().TotalCommittedBytes / (1024.0 * 1024.0),
        };
    }

    /// <summary>
    /// W7, a new host on the sleepers' database (recover-on-start on): from the process's start to the answer to its
    /// first request (the status of a sleeper, through the coordinator) and to a new one-step workflow's completion;
    /// then its memory once settled (passivate-after and 1 s later), and the CPU it used until then.
    /// </summary>
    private static async Task<object> RestartAsync(IActorRef coordinator, DateTime spawned, DateTime entered)
    {
        var status = await coordinator.Ask<object>(new GetWorkflowStatus("w7-000000"), Timeout);
        var firstAnswerMs = (DateTime.UtcNow - spawned).TotalMilliseconds;
        if (status is not WorkflowStatus { WaitingFor: not null })
            throw new InvalidOperationException($"w7-000000 is not asleep: {status}");
        await Run(coordinator, new StartWorkflow("w7-new", "steps", "1"));
        var newWorkflowMs = (DateTime.UtcNow - spawned).TotalMilliseconds;
        await Task.Delay(_asleep);
        var rssAsIs = RssMiB();
        var (heap, rss) = Memory();
        using var process = Process.GetCurrentProcess();
        return new
        {
            runtimeStartMs = (entered - spawned).TotalMilliseconds,
            firstAnswerMs,
            newWorkflowMs,
            rssAsIsMiB = rssAsIs,
            heapMiB = heap,
            rssMiB = rss,
            cpuSeconds = process.TotalProcessorTime.TotalSeconds,
        };
    }

    /// <summary>
    /// W8: <paramref name="count"/> workflows, <paramref name="batch"/> started at a time, all sleeping until one instant
    /// chosen before the first start: passivate-after, 1 s and 0.6 ms per workflow later (so that the starts fit and
    /// every wait is longer than passivate-after: each start is answered <see cref="WorkflowWaiting"/>, the workflow put
    /// away); the time from that instant to the last <c>done</c> step's Executed report (its completion rides with the
    /// run's end), and the CPU the process used meanwhile. The workflow index is read afterwards to count them completed.
    /// </summary>
    private static async Task<object> TimerStormAsync(ActorSystem system, IActorRef coordinator, BenchObserver observer, int count, int batch)
    {
        var passivateAfter = system.Settings.Config.GetTimeSpan("durable-actors.passivate-after");
        var first = DateTimeOffset.UtcNow;
        // The lead: time for every start to reach its sleep before it is due (1 s; DURABLE_BENCH_W8_LEAD_SECONDS gives more,
        // for a loaded machine where starting takes longer: a start that reaches its sleep after due is not put away).
        var lead = double.TryParse(Environment.GetEnvironmentVariable("DURABLE_BENCH_W8_LEAD_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var given)
            ? TimeSpan.FromSeconds(given)
            : TimeSpan.FromSeconds(1);
        var due = first + passivateAfter + lead + TimeSpan.FromMilliseconds(0.6 * count);
        var gate = new Lock();
        var completed = 0;
        DateTimeOffset firstDone = DateTimeOffset.MaxValue, lastDone = DateTimeOffset.MinValue;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        observer.Handler = report =>
        {
            if (report is not { Kind: StepReportKind.Executed, StepId: "done" })
                return;
            var now = DateTimeOffset.UtcNow;
            lock (gate)
            {
                firstDone = now < firstDone ? now : firstDone;
                lastDone = now > lastDone ? now : lastDone;
                if (++completed == count)
                    all.TrySetResult();
            }
        };

        var input = JsonSerializer.Serialize(due);
        int putAway = 0, inMemory = 0;
        for (var done = 0; done < count; done += batch)
        {
            var size = Math.Min(batch, count - done);
            var replies = await Task.WhenAll(Enumerable.Range(done, size).Select(i =>
                coordinator.Ask<object>(new StartWorkflow($"w8-{i:000000}", "storm", input), Timeout)));
            putAway += replies.Count(r => r is WorkflowWaiting);
            inMemory += replies.Count(r => r is WorkflowCompleted);
            if (replies.FirstOrDefault(r => r is not (WorkflowWaiting or WorkflowCompleted)) is { } other)
                throw new InvalidOperationException($"A storm workflow did not start: {other}");
        }
        var startSeconds = (DateTimeOffset.UtcNow - first).TotalSeconds;
        var marginSeconds = (due - DateTimeOffset.UtcNow).TotalSeconds;
        if (due > DateTimeOffset.UtcNow)
            await Task.Delay(due - DateTimeOffset.UtcNow);
        var cpuAtDue = CpuSeconds();
        await all.Task.WaitAsync(Timeout);
        var cpu = CpuSeconds() - cpuAtDue;

        var listed = 0;
        string? after = null;
        do
        {
            var page = await DurableWorkflows.ListAsync(system,
                new WorkflowQuery { Status = WorkflowRunStatus.Completed, Type = "storm", Limit = WorkflowQuery.MaxLimit, After = after });
            listed += page.Items.Count;
            after = page.NextCursor;
        }
        while (after is not null);

        var seconds = (lastDone - due).TotalSeconds;
        return new
        {
            startSeconds,
            dueAfterFirstStartSeconds = (due - first).TotalSeconds,
            marginSeconds,
            putAway,
            inMemory,
            firstSeconds = (firstDone - due).TotalSeconds,
            seconds,
            wakeUpsPerSecond = count / seconds,
            cpuMsPerWakeUp = cpu * 1000 / count,
            completedListed = listed,
        };
    }

    /// <summary>
    /// W9: <paramref name="count"/> workflows (after 100 unmeasured ones, the JIT's warm-up) wait in memory for the
    /// signal <c>go</c>; one at a time, the signal is sent through a handle and timed from just before it is sent to
    /// the body of the step after the wait and to that step's Executed report (its completion is durable, with the
    /// run's end).
    /// </summary>
    private static async Task<object> SignalRoundTripsAsync(
        ActorSystem system, BenchObserver observer, System.Collections.Concurrent.ConcurrentDictionary<string, long> bodies, int count)
    {
        var warmup = Math.Min(100, count);
        var ids = Enumerable.Range(0, warmup).Select(i => $"w9-warmup-{i:0000}").Concat(Enumerable.Range(0, count).Select(i => $"w9-{i:000000}")).ToList();
        var executed = ids.ToDictionary(id => id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously), StringComparer.Ordinal);
        observer.Handler = report =>
        {
            if (report is { Kind: StepReportKind.Executed, StepId: "after" } && executed.TryGetValue(report.WorkflowId, out var done))
                done.TrySetResult(Stopwatch.GetTimestamp());
        };
        var client = DurableWorkflows.Client(system);
        var handles = await Task.WhenAll(ids.Select(id => client.StartAsync<int, int>("signalled", id, 0)));

        // Every one waits (its status says what for) before the first signal.
        var deadline = Stopwatch.GetTimestamp() + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
        foreach (var id in ids)
        {
            while ((await DurableWorkflows.GetStatusAsync(system, id))?.WaitingFor is null)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                    throw new TimeoutException($"{id} does not wait for its signal.");
                await Task.Delay(10);
            }
        }

        var toCompleted = new List<double>(count);
        var toBody = new List<double>(count);
        for (var i = 0; i < ids.Count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var delivered = handles[i].SignalAsync("go", i);
            var done = await executed[ids[i]].Task.WaitAsync(Timeout);
            await delivered;
            if (i < warmup)
                continue;
            toCompleted.Add((done - started) * 1000.0 / Stopwatch.Frequency);
            toBody.Add((bodies[ids[i]] - started) * 1000.0 / Stopwatch.Frequency);
        }
        await Task.WhenAll(handles.Select(h => h.GetResultAsync()));

        var completedSorted = toCompleted.Order().ToArray();
        var bodySorted = toBody.Order().ToArray();
        return new
        {
            p50Ms = Percentile(completedSorted, 0.50),
            p99Ms = Percentile(completedSorted, 0.99),
            meanMs = completedSorted.Average(),
            bodyP50Ms = Percentile(bodySorted, 0.50),
            bodyP99Ms = Percentile(bodySorted, 0.99),
        };
    }

    private static double RssMiB()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }

    private static double CpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
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
