using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Benchmarks;

internal sealed record Sizes(
    int FloorCommits, int FloorRows, int W1Steps, int W1ResumeSteps, int W2Workflows, int W2Steps, int W3Workflows, int W4Workflows, int W4Steps, int W4KillAt,
    int W5Workflows, int W5Batch, int W5Baseline, int W6LongSteps, int W7Workflows, int W8Workflows, int W9Signals, int W10Workflows, int W11Workflows,
    int W12Workflows, int W12Rate, int W13Workflows, int W14Schedules, int W14Seconds, IReadOnlySet<string>? Only)
{
    /// <summary>The workloads <c>--only</c> may name; W6 reads the database W5 leaves, so it runs with W5.</summary>
    public static readonly string[] Workloads = ["f0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11", "w12", "w13", "w14"];

    public bool Runs(string workload) => Only is null || Only.Contains(workload);
}

internal static class Bench
{
    public static async Task<Report> RunAsync(string dir, string synchronous, int runs, Sizes sizes)
    {
        Directory.CreateDirectory(dir);
        var report = new Report(synchronous, sizes);
        for (var run = 1; run <= runs; run++)
        {
            Console.Error.WriteLine($"run {run} of {runs} (synchronous={synchronous})");
            await RunWorkloadsAsync(dir, synchronous, sizes, report, run);
        }
        return report;
    }

    /// <summary>W11: each workflow's one step returns a string of this many characters.</summary>
    private const int LargeResultChars = 100_000;

    /// <summary>W7–W9 start batches of this many workflows at once.</summary>
    private const int Batch = 1000;

    private static async Task RunWorkloadsAsync(string dir, string synchronous, Sizes sizes, Report report, int run)
    {
        if (sizes.Runs("f0"))
        {
            var floor = Floor(Fresh(dir, $"floor-{run}.db"), synchronous, sizes.FloorCommits, sizes.FloorRows);
            report.Add("F0 commit latency mean (µs)", floor.CommitMeanUs);
            report.Add("F0 commit latency p99 (µs)", floor.CommitP99Us);
            report.Add("F0 rows/s, 100 rows per transaction", floor.BatchedRowsPerSecond);
        }
        if (sizes.Runs("w1"))
        {

            var w1 = await ChildAsync("w1", Fresh(dir, $"w1-{run}.db"), synchronous, 0, sizes.W1Steps);
            report.Add("W1 per step mean (µs)", w1.Result("meanUs"));
            report.Add("W1 per step p50 (µs)", w1.Result("p50Us"));
            report.Add("W1 per step p99 (µs)", w1.Result("p99Us"));
            report.Add("W1 allocated per executed step (KB)", w1.Result("allocatedKBPerStep"));
            report.Add("W1 resume that replays every step, same host (ms)", w1.Result("replayMs"));
            report.Add("W1 allocated per replayed step (KB)", w1.Result("allocatedKBPerReplayedStep"));
            report.Add("W1 peak RSS (MiB)", w1.PeakRss);
            // Workflows whose runs failed, resumed by a new process: a first one of 100 steps (it pays the process's
            // cold start), then one of W1ResumeSteps: the journal's read, the replay of every step and the run's end,
            // each from the resume's send.
            var longDatabase = Fresh(dir, $"w1-long-{run}.db");
            await ChildAsync("w1-long", longDatabase, synchronous, 0, sizes.W1ResumeSteps);
            var resumed = await ChildAsync("w1-resume", longDatabase, synchronous, 0, 0);
            report.Add("W1 new process: first resume, 100 recorded steps (ms)", resumed.Result("firstResumeMs"));
            report.Add($"W1 new process: then a resume of {sizes.W1ResumeSteps:N0} recorded steps (ms)", resumed.Result("resumeMs"));
        }
        if (sizes.Runs("w2"))
        {

            var w2 = await ChildAsync("w2", Fresh(dir, $"w2-{run}.db"), synchronous, sizes.W2Workflows, sizes.W2Steps);
            report.Add("W2 steps/s", w2.Result("stepsPerSecond"));
            report.Add("W2 workflows/s", w2.Result("workflowsPerSecond"));
            report.Add("W2 peak RSS (MiB)", w2.PeakRss);
        }
        if (sizes.Runs("w3"))
        {

            var w3 = await ChildAsync("w3", Fresh(dir, $"w3-{run}.db"), synchronous, sizes.W3Workflows, 0);
            report.Add("W3 workflows/s", w3.Result("workflowsPerSecond"));
            report.Add("W3 peak RSS (MiB)", w3.PeakRss);
        }
        if (sizes.Runs("w4"))
        {

            var w4 = await RecoveryAsync(dir, run, synchronous, sizes);
            report.Add("W4 spawn to all complete (s)", w4.Seconds);
            report.Add("W4 steps run twice", w4.RunTwice);
            report.Add("W4 workflows with more than one step run twice", w4.WorkflowsWithSeveralRerun);
            report.Add("W4 workflows not started before the kill", w4.NotStarted);
            report.Add("W4 workflows completed", w4.Completed);
            report.Add("W4 steps missing in started workflows", w4.Missing);
            report.Add("W4 peak RSS (MiB)", w4.PeakRss);
        }

        // W5 and W6 fill a database of W5-workflows workflows (minutes at full size), W7 one of W7-workflows sleepers:
        // in the first run only.
        if (run == 1 && (sizes.Runs("w5") || sizes.Runs("w6")))
        {
            var w5Database = Fresh(dir, $"w5-{run}.db");
            var w5 = await ChildAsync("w5", w5Database, synchronous, sizes.W5Workflows, sizes.W5Batch, killAt: sizes.W5Baseline);
            report.Add("W5 workflows/s", w5.Result("workflowsPerSecond"));
            report.Add($"W5 managed heap after full GC, after {sizes.W5Baseline:N0}, idle actors passivated (MiB)", w5.Result("heapAtBaselineMiB"));
            report.Add($"W5 managed heap after full GC, after {sizes.W5Workflows:N0}, idle actors passivated (MiB)", w5.Result("heapAtEndMiB"));
            report.Add("W5 managed heap growth (MiB)", w5.Result("heapGrowthMiB"));
            report.Add($"W5 managed heap at once after {sizes.W5Baseline:N0}, actors not yet passivated (MiB)",
                w5.Result("busyHeapAtBaselineMiB"));
            report.Add($"W5 managed heap at once after {sizes.W5Workflows:N0}, actors not yet passivated (MiB)", w5.Result("busyHeapAtEndMiB"));
            report.Add($"W5 RSS after {sizes.W5Baseline:N0} (MiB)", w5.Result("rssAtBaselineMiB"));
            report.Add($"W5 RSS after {sizes.W5Workflows:N0} (MiB)", w5.Result("rssAtEndMiB"));
            report.Add("W5 RSS growth (%)", w5.Result("rssGrowthPercent"));
            report.Add("W5 peak RSS (MiB)", w5.PeakRss);

            var w6 = await ChildAsync("w6", w5Database, synchronous, 0, sizes.W6LongSteps);
            report.Add("W6 newest 50 (ms)", w6.Result("newest50Ms"));
            report.Add("W6 50 filtered by status (ms)", w6.Result("failed50Ms"));
            report.Add("W6 second page of 50 (ms)", w6.Result("secondPageMs"));
            report.Add("W6 status of one workflow with its steps (ms)", w6.Result("statusMs"));
            report.Add($"W6 status of a {sizes.W6LongSteps:N0}-step workflow (ms)", w6.Result("longStatusMs"));
            var (list, startup) = (await CliMedianMsAsync(3, "list", "--limit", "50", "--db", w5Database), await CliMedianMsAsync(3, "--help"));
            report.Add("W6 CLI list --limit 50 (ms)", list);
            report.Add("W6 CLI start-up, --help (ms)", startup);
            report.Add("W6 CLI list minus start-up (ms)", list - startup);
        }

        // W10 fills a database of W10-workflows workflows (a minute or more at full size): in the first run only.
        if (run == 1 && sizes.Runs("w10"))
            await CliReadsAsync(dir, synchronous, sizes, report);

        if (run == 1 && sizes.Runs("w7"))
        {
            var w7Database = Fresh(dir, $"w7-{run}.db");
            var w7 = await ChildAsync("w7", w7Database, synchronous, sizes.W7Workflows, Batch);
            report.Add("W7 start of all sleepers (s)", w7.Result("seconds"));
            report.Add("W7 sleepers started per second", w7.Result("workflowsPerSecond"));
            report.Add("W7 RSS once all asleep, actors passivated (MiB)", w7.Result("rssAsIsMiB"));
            report.Add("W7 RSS once all asleep, after full GC (MiB)", w7.Result("rssMiB"));
            report.Add("W7 managed heap once all asleep, after full GC (MiB)", w7.Result("heapMiB"));
            report.Add("W7 memory committed by the GC once all asleep (MiB)", w7.Result("gcCommittedAsIsMiB"));
            report.Add("W7 memory committed by the GC after full GC (MiB)", w7.Result("gcCommittedMiB"));
            report.Add("W7 peak RSS (MiB)", w7.PeakRss);
            var restart = await ChildAsync("w7-restart", w7Database, synchronous, 0, 0);
            report.Add("W7 new host: runtime start to Main (ms)", restart.Result("runtimeStartMs"));
            report.Add("W7 new host: process start to first answer (ms)", restart.Result("firstAnswerMs"));
            report.Add("W7 new host: process start to a new workflow completed (ms)", restart.Result("newWorkflowMs"));
            report.Add("W7 new host RSS once settled (MiB)", restart.Result("rssAsIsMiB"));
            report.Add("W7 new host RSS once settled, after full GC (MiB)", restart.Result("rssMiB"));
            report.Add("W7 new host managed heap once settled, after full GC (MiB)", restart.Result("heapMiB"));
            report.Add("W7 new host CPU until settled (s)", restart.Result("cpuSeconds"));
            report.Add("W7 new host peak RSS (MiB)", restart.PeakRss);
        }

        if (sizes.Runs("w8"))
        {
            var w8 = await ChildAsync("w8", Fresh(dir, $"w8-{run}.db"), synchronous, sizes.W8Workflows, Batch);
            report.Add("W8 start of all (s)", w8.Result("startSeconds"));
            report.Add("W8 due time after the first start (s)", w8.Result("dueAfterFirstStartSeconds"));
            report.Add("W8 workflows put away while they slept", w8.Result("putAway"));
            report.Add("W8 due time to first completed (s)", w8.Result("firstSeconds"));
            report.Add("W8 due time to all completed (s)", w8.Result("seconds"));
            report.Add("W8 wake-ups per second", w8.Result("wakeUpsPerSecond"));
            report.Add("W8 CPU per wake-up (ms)", w8.Result("cpuMsPerWakeUp"));
            report.Add("W8 workflows completed in the index", w8.Result("completedListed"));
            report.Add("W8 peak RSS (MiB)", w8.PeakRss);
        }

        if (run == 1 && sizes.Runs("w11"))
        {
            var w11 = await ChildAsync("w11", Fresh(dir, $"w11-{run}.db"), synchronous, sizes.W11Workflows, LargeResultChars);
            report.Add($"W11 managed heap held once the workflows of {LargeResultChars / 1000} KB results passivated, after full GC (MiB)",
                w11.Result("heldMiB"));
            report.Add("W11 peak RSS (MiB)", w11.PeakRss);
        }

        // W12 runs for minutes (500,000 workflows at 2,000 a second): in the first run only.
        if (run == 1 && sizes.Runs("w12"))
        {
            var w12 = await ChildAsync("w12", Fresh(dir, $"w12-{run}.db"), synchronous, sizes.W12Workflows, sizes.W12Rate);
            report.Add("W12 workflows/s completed before the first purge (10 s to 2 min)", w12.Result("quietPerSecond"));
            report.Add("W12 workflows/s completed while the sweep purges (2 min to the last start)", w12.Result("purgingPerSecond"));
            report.Add("W12 start to end p50 before the first purge (ms)", w12.Result("quietP50Ms"));
            report.Add("W12 start to end p99 before the first purge (ms)", w12.Result("quietP99Ms"));
            report.Add("W12 start to end p50 while the sweep purges (ms)", w12.Result("purgingP50Ms"));
            report.Add("W12 start to end p99 while the sweep purges (ms)", w12.Result("purgingP99Ms"));
            report.Add("W12 database file with its WAL at 2 min (MiB)", w12.Result("fileAt2MinMiB"));
            report.Add("W12 database file with its WAL at 3 min (MiB)", w12.Result("fileAt3MinMiB"));
            report.Add("W12 database file with its WAL at 4 min (MiB)", w12.Result("fileAt4MinMiB"));
            report.Add("W12 database file with its WAL, largest from 3 min on (MiB)", w12.Result("fileMaxAfter3MinMiB"));
            report.Add("W12 database file with its WAL at the end (MiB)", w12.Result("fileAtEndMiB"));
            report.Add("W12 workflows in the index at the end", w12.Result("indexRowsAtEnd"));
            report.Add("W12 workflows in the index, most at once", w12.Result("indexRowsMax"));
            report.Add("W12 peak RSS (MiB)", w12.PeakRss);
        }

        if (sizes.Runs("w13"))
        {
            var w13 = await ChildAsync("w13", Fresh(dir, $"w13-{run}.db"), synchronous, sizes.W13Workflows, 0);
            report.Add("W13 enqueues/s", w13.Result("enqueuesPerSecond"));
            report.Add("W13 workflows/s through the queue (concurrency 50, key concurrency 1 over 100 keys)", w13.Result("workflowsPerSecond"));
            report.Add("W13 most running at once (limit 50)", w13.Result("mostAtOnce"));
            report.Add("W13 most running at once per key (limit 1)", w13.Result("mostAtOncePerKey"));
            report.Add("W13 enqueue to start on a free queue p50 (ms)", w13.Result("p50Ms"));
            report.Add("W13 enqueue to start on a free queue p99 (ms)", w13.Result("p99Ms"));
            report.Add("W13 peak RSS (MiB)", w13.PeakRss);
        }

        // W14 runs in real time (a minute by default): in the first run only.
        if (run == 1 && sizes.Runs("w14"))
        {
            var w14 = await ChildAsync("w14", Fresh(dir, $"w14-{run}.db"), synchronous, sizes.W14Schedules, sizes.W14Seconds);
            report.Add("W14 ticks fired", w14.Result("ticks"));
            report.Add("W14 tick lateness p50, tick instant to step start (ms)", w14.Result("p50Ms"));
            report.Add("W14 tick lateness p99 (ms)", w14.Result("p99Ms"));
            report.Add("W14 tick lateness, the worst (ms)", w14.Result("maxMs"));
            report.Add("W14 CPU between ticks (% of one core)", w14.Result("quietCpuPercent"));
            report.Add("W14 CPU overall (% of one core)", w14.Result("cpuPercent"));
            report.Add("W14 RSS between ticks (MiB)", w14.Result("quietRssMiB"));
            report.Add("W14 peak RSS (MiB)", w14.PeakRss);
        }

        if (sizes.Runs("w9"))
        {
            var w9 = await ChildAsync("w9", Fresh(dir, $"w9-{run}.db"), synchronous, sizes.W9Signals, 0);
            report.Add("W9 signal to step completed p50 (ms)", w9.Result("p50Ms"));
            report.Add("W9 signal to step completed p99 (ms)", w9.Result("p99Ms"));
            report.Add("W9 signal to step completed mean (ms)", w9.Result("meanMs"));
            report.Add("W9 signal to step body p50 (ms)", w9.Result("bodyP50Ms"));
            report.Add("W9 signal to step body p99 (ms)", w9.Result("bodyP99Ms"));
            report.Add("W9 peak RSS (MiB)", w9.PeakRss);
        }
    }

    private static string Fresh(string dir, string name)
    {
        foreach (var file in Directory.GetFiles(dir, name + "*"))
            File.Delete(file);
        return Path.Combine(dir, name);
    }

    private sealed record FloorResult(double CommitMeanUs, double CommitP99Us, double BatchedRowsPerSecond);

    /// <summary>Raw Microsoft.Data.Sqlite, WAL, the same synchronous setting: single-row commits and 100-row transactions.</summary>
    private static FloorResult Floor(string path, string synchronous, int commits, int rows)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; CREATE TABLE events(id INTEGER PRIMARY KEY, key TEXT NOT NULL, payload BLOB NOT NULL)");
        var payload = new byte[48];
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO events(key, payload) VALUES ($key, $payload)";
        var key = insert.Parameters.Add("$key", SqliteType.Text);
        insert.Parameters.AddWithValue("$payload", payload);

        void InsertOne(int i)
        {
            key.Value = $"workflow-{i % 100}:{i}";
            insert.ExecuteNonQuery();
        }

        for (var i = 0; i < 50; i++)
            InsertOne(i);

        var latencies = new double[commits];
        for (var i = 0; i < commits; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using (var transaction = connection.BeginTransaction())
            {
                insert.Transaction = transaction;
                InsertOne(i);
                transaction.Commit();
            }
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var batched = Stopwatch.GetTimestamp();
        for (var batch = 0; batch < rows / 100; batch++)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            for (var i = 0; i < 100; i++)
                InsertOne(batch * 100 + i);
            transaction.Commit();
        }
        var seconds = Stopwatch.GetElapsedTime(batched).TotalSeconds;

        Array.Sort(latencies);
        return new FloorResult(latencies.Average(), Child.Percentile(latencies, 0.99), rows / 100 * 100 / seconds);
    }

    /// <summary>The workflow ids with a journal event of this manifest (the engine's serializer writes short manifests).</summary>
    private static HashSet<string> JournalIds(string database, string manifest)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT persistence_id FROM journal WHERE manifest = $manifest";
        command.Parameters.AddWithValue("$manifest", manifest);
        using var reader = command.ExecuteReader();
        var ids = new HashSet<string>();
        while (reader.Read())
            ids.Add(reader.GetString(0)["workflow-".Length..]);
        return ids;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed record ChildResult(JsonNode Json)
    {
        public double Result(string name) => Json["result"]![name]!.GetValue<double>();
        public double PeakRss => Json["peakRssMiB"]!.GetValue<double>();
    }

    private static Process Spawn(string workload, string database, string synchronous, int count, int steps, string? effects = null, int killAt = 0)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(typeof(Bench).Assembly.Location);
        foreach (var arg in new[] { "--child", workload, "--db", database, "--synchronous", synchronous, "--count", $"{count}", "--steps", $"{steps}", "--kill-at", $"{killAt}" })
            start.ArgumentList.Add(arg);
        if (effects is not null)
        {
            start.ArgumentList.Add("--effects");
            start.ArgumentList.Add(effects);
        }
        return Process.Start(start)!;
    }

    /// <summary>
    /// W10 (CLI reads): a database of <c>--w10-workflows</c> one-step workflows, then the CLI's <c>--help</c> (its own
    /// start-up), <c>list --limit 50</c>, and <c>status</c> and <c>history</c> of one workflow on it, each from spawn to
    /// exit, the median of 5 after one unmeasured run.
    /// </summary>
    private static async Task CliReadsAsync(string dir, string synchronous, Sizes sizes, Report report)
    {
        var database = Fresh(dir, "w10-1.db");
        var fill = await ChildAsync("w10-fill", database, synchronous, sizes.W10Workflows, Batch);
        report.Add("W10 database filled, workflows/s", fill.Result("workflowsPerSecond"));
        var id = $"w10-{sizes.W10Workflows / 2:000000}";
        var help = await CliMedianMsAsync(5, "--help");
        var list = await CliMedianMsAsync(5, "list", "--limit", "50", "--db", database);
        var status = await CliMedianMsAsync(5, "status", id, "--db", database);
        var history = await CliMedianMsAsync(5, "history", id, "--db", database);
        report.Add("W10 CLI start-up, --help (ms)", help);
        report.Add("W10 CLI list --limit 50 (ms)", list);
        report.Add("W10 CLI list --limit 50 minus start-up (ms)", list - help);
        report.Add("W10 CLI status of one workflow minus start-up (ms)", status - help);
        report.Add("W10 CLI history of one workflow minus start-up (ms)", history - help);
    }

    /// <summary>
    /// The CLI run with <paramref name="args"/>, from spawn to exit: the median of <paramref name="runs"/> after one
    /// unmeasured run. DURABLE_BENCH_CLI_RUNS caps the runs (the test that runs the benchmark at tiny sizes sets 1).
    /// </summary>
    private static async Task<double> CliMedianMsAsync(int runs, params string[] args)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("DURABLE_BENCH_CLI_RUNS"), System.Globalization.CultureInfo.InvariantCulture, out var cap) && cap >= 1)
            runs = Math.Min(runs, cap);
        var cli = Path.Combine(AppContext.BaseDirectory, "Durable.Actors.Cli.dll");
        {
            var times = new List<double>();
            for (var i = 0; i <= runs; i++)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                start.ArgumentList.Add(cli);
                foreach (var arg in args)
                    start.ArgumentList.Add(arg);
                var started = Stopwatch.GetTimestamp();
                using var process = Process.Start(start)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (process.ExitCode != 0)
                    throw new InvalidOperationException($"CLI {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
                await stdout;
                if (i > 0)
                    times.Add(ms);
            }
            times.Sort();
            return times[times.Count / 2];
        }
    }

    private static async Task<ChildResult> ChildAsync(string workload, string database, string synchronous, int count, int steps, int killAt = 0)
    {
        using var process = Spawn(workload, database, synchronous, count, steps, killAt: killAt);
        var result = await ReadResultAsync(process, workload);
        await process.WaitForExitAsync();
        return result;
    }

    private static async Task<ChildResult> ReadResultAsync(Process process, string workload)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                return new ChildResult(JsonNode.Parse(line["RESULT ".Length..])!);
        }
        await process.WaitForExitAsync();
        throw new InvalidOperationException($"Workload {workload} exited with code {process.ExitCode} and no result.");
    }

    private sealed record RecoveryResult(double Seconds, int RunTwice, int WorkflowsWithSeveralRerun, int NotStarted, int Completed, int Missing, double PeakRss);

    /// <summary>W4: a process runs the workflows and is killed with SIGKILL at a line count; a new one recovers them.</summary>
    private static async Task<RecoveryResult> RecoveryAsync(string dir, int run, string synchronous, Sizes sizes)
    {
        var database = Fresh(dir, $"w4-{run}.db");
        var effects = Fresh(dir, $"w4-{run}.effects");
        using (var runner = Spawn("w4-run", database, synchronous, sizes.W4Workflows, sizes.W4Steps, effects, sizes.W4KillAt))
        {
            while (await runner.StandardOutput.ReadLineAsync() is { } line && line != "KILL-ME")
            {
            }
            runner.Kill();
            await runner.WaitForExitAsync();
        }

        var spawned = Stopwatch.GetTimestamp();
        using var recoverer = Spawn("w4-recover", database, synchronous, 0, 0, effects, int.MaxValue);
        var result = await ReadResultAsync(recoverer, "w4-recover");
        var seconds = Stopwatch.GetElapsedTime(spawned).TotalSeconds;
        await recoverer.WaitForExitAsync();

        // A start whose WorkflowStarted record was not durable when the process died never happened: its client got
        // no reply and must start it again. Every workflow that did start must have run all its steps.
        var started = JournalIds(database, "WS");
        var counts = File.ReadLines(effects).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        var expected = started.SelectMany(id => Enumerable.Range(1, sizes.W4Steps).Select(s => $"{id} {s}")).ToList();
        var twice = counts.Where(c => c.Value > 1).ToList();
        return new RecoveryResult(
            seconds,
            twice.Sum(c => c.Value - 1),
            twice.GroupBy(c => c.Key.Split(' ')[0]).Count(g => g.Sum(c => c.Value - 1) > 1),
            sizes.W4Workflows - started.Count,
            JournalIds(database, "RJ").Count,
            expected.Count(e => !counts.ContainsKey(e)),
            result.PeakRss);
    }
}

/// <summary>Every run's figures, and their median, min and max with the ratio to the floor.</summary>
internal sealed class Report(string synchronous, Sizes sizes)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly Dictionary<string, List<double>> _figures = [];

    public void Add(string name, double value)
    {
        if (!_figures.TryGetValue(name, out var values))
            _figures[name] = values = [];
        values.Add(value);
    }

    private double Median(string name)
    {
        var sorted = _figures[name].Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private string? Ratio(string name) => name switch
    {
        _ when name.StartsWith("W1 per step", StringComparison.Ordinal) && !_figures.ContainsKey("F0 commit latency mean (µs)") => null,
        "W2 steps/s" when !_figures.ContainsKey("F0 rows/s, 100 rows per transaction") => null,
        "W1 per step mean (µs)" or "W1 per step p50 (µs)" or "W1 per step p99 (µs)" =>
            $"{Median(name) / Median("F0 commit latency mean (µs)"):0.00} × one raw commit",
        "W2 steps/s" => $"{Median(name) / Median("F0 rows/s, 100 rows per transaction") * 100:0.0} % of raw batched rows/s",
        "W5 managed heap growth (MiB)" => "target ≤ 20 MiB",
        "W5 RSS growth (%)" => "target ≤ 20 %",
        "W6 newest 50 (ms)" or "W6 50 filtered by status (ms)" => "target ≤ 20 ms",
        "W6 status of one workflow with its steps (ms)" => "target ≤ 5 ms",
        "W6 CLI list minus start-up (ms)" => "target ≤ 1,500 ms",
        "W10 CLI list --limit 50 minus start-up (ms)" => "target ≤ 150 ms",
        _ when name.StartsWith("W6 status of a ", StringComparison.Ordinal) => "target ≤ 50 ms",
        // A new host resuming 10,000 recorded steps reaches its frontier within 50 ms.
        "W1 new process: then a resume of 10,000 recorded steps (ms)" => "target ≤ 50 ms",
        "W7 RSS once all asleep, actors passivated (MiB)" => "target ≤ 250 MiB",
        "W7 new host: process start to first answer (ms)" => "target ≤ 1,000 ms",
        "W7 new host RSS once settled (MiB)" => "target ≤ 150 MiB",
        "W8 due time to all completed (s)" => "target ≤ 5 s",
        "W9 signal to step completed p50 (ms)" => "target ≤ 3 ms under FULL",
        _ => null,
    };

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Durable.Actors benchmark, synchronous={synchronous}, {_figures.First().Value.Count} runs, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        text.AppendLine("| figure | median | min | max | ratio to the floor, or target |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var (name, values) in _figures)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {Format(Median(name))} | {Format(values.Min())} | {Format(values.Max())} | {Ratio(name)} |");
        return text.ToString();
    }

    public string Json() => JsonSerializer.Serialize(new
    {
        synchronous,
        date = DateTime.UtcNow,
        cores = Environment.ProcessorCount,
        sizes,
        figures = _figures.ToDictionary(f => f.Key, f => new { median = Median(f.Key), min = f.Value.Min(), max = f.Value.Max(), runs = f.Value, ratio = Ratio(f.Key) }),
    }, Indented);

    private static string Format(double value) => value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.##", CultureInfo.InvariantCulture);
}
