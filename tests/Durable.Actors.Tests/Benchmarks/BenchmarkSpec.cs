using System.Diagnostics;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Benchmarks;

/// <summary>Runs the benchmark program at tiny sizes so that it never rots. It asserts what it reports, never how fast.</summary>
public sealed class BenchmarkSpec
{
    [Fact]
    public async Task Benchmark_AtTinySizes_ReportsEveryWorkloadAgainstTheFloor()
    {
        using var folder = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "Durable.Actors.Benchmarks.dll"), "--runs", "1", "--synchronous", "normal", "--out", "bench.json",
                     "--floor-commits", "20", "--floor-rows", "500", "--w1-steps", "10", "--w1-resume-steps", "20", "--w2-workflows", "4", "--w2-steps", "3",
                     "--w3-workflows", "4", "--w4-workflows", "4", "--w4-steps", "5", "--w4-kill-at", "6",
                     "--w5-workflows", "30", "--w5-batch", "10", "--w5-baseline", "10", "--w6-long-steps", "20",
                     "--w7-workflows", "20", "--w8-workflows", "20", "--w9-signals", "10", "--w10-workflows", "20", "--w11-workflows", "5",
                     "--w12-workflows", "20", "--w12-rate", "200", "--w13-workflows", "20", "--w14-schedules", "5", "--w14-seconds", "1",
                 })
            start.ArgumentList.Add(arg);

        // W5, W7 and W8 wait for idle workflows to passivate: a short passivate-after keeps this test fast.
        start.Environment["DURABLE_BENCH_HOCON"] = "durable-actors.passivate-after = 200ms";
        // W8 checks that its workflows were put away while they slept: 10 s for 20 starts to reach their sleep, however
        // loaded the machine (1 s was not always enough with two CI runs at once).
        start.Environment["DURABLE_BENCH_W8_LEAD_SECONDS"] = "10";
        // One measured CLI run per figure instead of 3 or 5: the figures only have to be there (32 CLI processes -> 12).
        start.Environment["DURABLE_BENCH_CLI_RUNS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(process.ExitCode == 0, await stderr);
        var table = await stdout;
        Assert.Contains("| W1 per step mean (µs) |", table);
        Assert.Contains("× one raw commit", table);
        var figures = JsonDocument.Parse(await File.ReadAllTextAsync(folder.File("bench.json"))).RootElement.GetProperty("figures");
        string[] expected =
        [
            "F0 commit latency mean (µs)", "F0 rows/s, 100 rows per transaction", "W1 per step mean (µs)", "W1 per step p99 (µs)", "W1 allocated per executed step (KB)", "W1 allocated per replayed step (KB)", "W1 new process: first resume, 100 recorded steps (ms)", "W1 new process: then a resume of 20 recorded steps (ms)",
            "W2 steps/s", "W3 workflows/s", "W4 spawn to all complete (s)", "W4 steps missing in started workflows", "W4 workflows completed", "W1 peak RSS (MiB)", "W4 peak RSS (MiB)",
            "W5 managed heap growth (MiB)", "W5 RSS growth (%)", "W6 newest 50 (ms)", "W6 50 filtered by status (ms)",
            "W6 status of one workflow with its steps (ms)", "W6 status of a 20-step workflow (ms)", "W6 CLI list minus start-up (ms)",
            "W7 RSS once all asleep, actors passivated (MiB)", "W7 managed heap once all asleep, after full GC (MiB)",
            "W7 new host: process start to first answer (ms)", "W7 new host RSS once settled (MiB)", "W8 due time to all completed (s)",
            "W8 CPU per wake-up (ms)", "W9 signal to step completed p50 (ms)", "W9 signal to step completed p99 (ms)",
            "W10 CLI start-up, --help (ms)", "W10 CLI list --limit 50 (ms)", "W10 CLI list --limit 50 minus start-up (ms)",
            "W10 CLI status of one workflow minus start-up (ms)", "W10 CLI history of one workflow minus start-up (ms)",
            "W11 managed heap held once the workflows of 100 KB results passivated, after full GC (MiB)",
            "W12 database file with its WAL at the end (MiB)", "W12 workflows in the index at the end",
            "W13 workflows/s through the queue (concurrency 50, key concurrency 1 over 100 keys)", "W13 enqueue to start on a free queue p50 (ms)", "W14 tick lateness p99 (ms)",
        ];
        Assert.All(expected, name => Assert.True(figures.TryGetProperty(name, out _), $"missing {name}"));
        Assert.Equal(0, figures.GetProperty("W4 steps missing in started workflows").GetProperty("median").GetDouble());
        Assert.Equal(0, figures.GetProperty("W4 workflows with more than one step run twice").GetProperty("median").GetDouble());
        Assert.Equal(1, figures.GetProperty("W13 most running at once per key (limit 1)").GetProperty("median").GetDouble());
        Assert.All(figures.EnumerateObject().Where(f => f.Name is not ("W5 managed heap growth (MiB)" or "W5 RSS growth (%)" or "W6 CLI list minus start-up (ms)")
                && !f.Name.EndsWith("minus start-up (ms)", StringComparison.Ordinal) && !f.Name.StartsWith("W11 managed heap held", StringComparison.Ordinal)),
            f => Assert.True(f.Value.GetProperty("median").GetDouble() >= 0, f.Name));
        Assert.Equal(20, figures.GetProperty("W8 workflows completed in the index").GetProperty("median").GetDouble());
        Assert.Equal(20, figures.GetProperty("W8 workflows put away while they slept").GetProperty("median").GetDouble());
        Assert.Contains("target ≤ 20 ms", table);
        Assert.Contains("target ≤ 5 s", table);
    }
}
