using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Benchmarks;

internal sealed record Sizes(
    int FloorCommits, int FloorRows, int W1Steps, int W2Workflows, int W2Steps, int W3Workflows, int W4Workflows, int W4Steps, int W4KillAt,
    int W5Workflows, int W5Batch, int W5Baseline, int W6LongSteps);

internal static class Bench
{
    public static async Task<Report> RunAsync(string dir, string synchronous, int runs, Sizes sizes)
    {
        Directory.CreateDirectory(dir);
        var report = new Report(synchronous, sizes);
        for (var run = 1; run <= runs; run++)
        {
            Console.Error.WriteLine($"run {run} of {runs} (synchronous={synchronous})");
            var floor = Floor(Fresh(dir, $"floor-{run}.db"), synchronous, sizes.FloorCommits, sizes.FloorRows);
            report.Add("F0 commit latency mean (µs)", floor.CommitMeanUs);
            report.Add("F0 commit latency p99 (µs)", floor.CommitP99Us);
            report.Add("F0 rows/s, 100 rows per transaction", floor.BatchedRowsPerSecond);

            var w1 = await ChildAsync("w1", Fresh(dir, $"w1-{run}.db"), synchronous, 0, sizes.W1Steps);
            report.Add("W1 per step mean (µs)", w1.Result("meanUs"));
            report.Add("W1 per step p50 (µs)", w1.Result("p50Us"));
            report.Add("W1 per step p99 (µs)", w1.Result("p99Us"));
            report.Add("W1 peak RSS (MiB)", w1.PeakRss);

            var w2 = await ChildAsync("w2", Fresh(dir, $"w2-{run}.db"), synchronous, sizes.W2Workflows, sizes.W2Steps);
            report.Add("W2 steps/s", w2.Result("stepsPerSecond"));
            report.Add("W2 workflows/s", w2.Result("workflowsPerSecond"));
            report.Add("W2 peak RSS (MiB)", w2.PeakRss);

            var w3 = await ChildAsync("w3", Fresh(dir, $"w3-{run}.db"), synchronous, sizes.W3Workflows, 0);
            report.Add("W3 workflows/s", w3.Result("workflowsPerSecond"));
            report.Add("W3 peak RSS (MiB)", w3.PeakRss);

            var w4 = await RecoveryAsync(dir, run, synchronous, sizes);
            report.Add("W4 spawn to all complete (s)", w4.Seconds);
            report.Add("W4 steps run twice", w4.RunTwice);
            report.Add("W4 workflows with more than one step run twice", w4.WorkflowsWithSeveralRerun);
            report.Add("W4 workflows not started before the kill", w4.NotStarted);
            report.Add("W4 workflows completed", w4.Completed);
            report.Add("W4 steps missing in started workflows", w4.Missing);
            report.Add("W4 peak RSS (MiB)", w4.PeakRss);

            // W5 and W6 fill a database of W5-workflows workflows (minutes at full size): in the first run only.
            if (run > 1)
                continue;
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
            var (list, startup) = await CliTimesAsync(w5Database);
            report.Add("W6 CLI list --limit 50 (ms)", list);
            report.Add("W6 CLI start-up, --help (ms)", startup);
            report.Add("W6 CLI list minus start-up (ms)", list - startup);
        }
        return report;
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

    /// <summary>The CLI's <c>list --limit 50</c> on <paramref name="database"/> and its <c>--help</c>, from spawn to exit: medians of 3 after one unmeasured run each.</summary>
    private static async Task<(double ListMs, double StartupMs)> CliTimesAsync(string database)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Durable.Actors.Cli.dll");
        async Task<double> MedianMs(params string[] args)
        {
            var times = new List<double>();
            for (var i = 0; i < 4; i++)
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

        return (await MedianMs("list", "--limit", "50", "--db", database), await MedianMs("--help"));
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
            JournalIds(database, "RC").Count,
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
        "W1 per step mean (µs)" or "W1 per step p50 (µs)" or "W1 per step p99 (µs)" =>
            $"{Median(name) / Median("F0 commit latency mean (µs)"):0.00} × one raw commit",
        "W2 steps/s" => $"{Median(name) / Median("F0 rows/s, 100 rows per transaction") * 100:0.0} % of raw batched rows/s",
        "W5 managed heap growth (MiB)" => "target ≤ 20 MiB",
        "W5 RSS growth (%)" => "target ≤ 20 %",
        "W6 newest 50 (ms)" or "W6 50 filtered by status (ms)" => "target ≤ 20 ms",
        "W6 status of one workflow with its steps (ms)" => "target ≤ 5 ms",
        "W6 CLI list minus start-up (ms)" => "target ≤ 1,500 ms",
        _ when name.StartsWith("W6 status of a ", StringComparison.Ordinal) => "target ≤ 50 ms",
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
