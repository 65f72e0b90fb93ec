using System.Diagnostics;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// Heartbeats across two processes on one database: the <c>import</c> sample's long step heartbeats after each row.
/// A second process that resumes the workflow waits on it far past the stale timeout while the heartbeats come; once
/// the first process hangs (SIGSTOP: alive, silent), the second takes the step over after its heartbeat timeout and
/// goes on after the last row recorded.
/// </summary>
public sealed class HeartbeatSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Stops <paramref name="process"/> (SIGSTOP, with the shell's kill): it stays alive and runs nothing. Returns once
    /// every thread of it is stopped (a signal is taken by each thread the next time it runs: a write under way ends first).
    /// </summary>
    private static async Task HangAsync(Process process)
    {
        using var kill = Process.Start("sh", ["-c", $"kill -STOP {process.Id}"]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
        await Polling.UntilAsync(() => Directory.GetDirectories($"/proc/{process.Id}/task").All(Stopped), "every thread of the first process stopped", Timeout);
    }

    /// <summary>Whether the thread of <c>/proc/&lt;pid&gt;/task/&lt;tid&gt;</c> is stopped (state T or t); a thread gone counts.</summary>
    private static bool Stopped(string task)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            // "tid (name) S ...": the state follows the name's closing parenthesis.
            return stat[(stat.LastIndexOf(')') + 2)..][0] is 'T' or 't';
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static int[] Rows(string folder) =>
        TestSupport.Cli.Effects(folder).Where(l => l.StartsWith("imp-1 row-", StringComparison.Ordinal))
            .Select(l => int.Parse(l["imp-1 row-".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public async Task SecondProcessWaitsWhileHeartbeatsCome_AndTakesTheStepOverFromItsLastRowOnceTheFirstHangs()
    {
        using var folder = new TempFolder();
        // 1,000 rows of 20 ms, a heartbeat timeout of 6 s (a heartbeat recorded every 2 s); a stale timeout of 1 s in the
        // second process, which alone would let it run the step again a second after the step started.
        const string input = """{"rows": 1000, "rowMilliseconds": 20, "heartbeatSeconds": 6}""";
        using var first = TestSupport.Cli.Start(folder.Path, "start", "imp-1", "--type", "import", "--input", input);
        var firstOut = first.StandardOutput.ReadToEndAsync();
        var firstErr = first.StandardError.ReadToEndAsync();
        Process? second = null;
        try
        {
            await Polling.UntilAsync(() => Rows(folder.Path).Length >= 25, "25 rows imported by the first process", Timeout);
            second = TestSupport.Cli.Start(folder.Path, "resume", "imp-1", "--stale-timeout", "1s");
            var secondErr = second.StandardError.ReadToEndAsync();

            // The second process looks at the step again each time a heartbeat is recorded: twice here, over more than
            // the stale timeout, and waits on each time; it runs no row.
            var secondLines = new List<string>();
            while (secondLines.Count(l => l.StartsWith("imp-1:1 import-rows waiting: ", StringComparison.Ordinal)) < 2
                && await second.StandardOutput.ReadLineAsync().WaitAsync(Timeout) is { } line)
                secondLines.Add(line);
            // (Messages that await a process's output only once it failed: an await in an argument runs first.)
            if (secondLines.Count(l => l.Contains("unless a heartbeat comes", StringComparison.Ordinal)) != 2)
                Assert.Fail($"the second process did not wait on the step: {string.Join(" | ", secondLines)} {await secondErr}");
            if (first.HasExited)
                Assert.Fail($"the first process ended before it was stopped: {await firstOut} {await firstErr}");
            Assert.Equal(Rows(folder.Path).Length, Rows(folder.Path).Distinct().Count());

            // The first process hangs: alive, its heartbeats stop.
            await HangAsync(first);
            var imported = Rows(folder.Path).Max();
            Assert.True(imported < 1000, "the first process finished before it was stopped");

            var rest = second.StandardOutput.ReadToEndAsync();
            await second.WaitForExitAsync().WaitAsync(Timeout);
            var output = secondLines.Concat((await rest).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
            if (second.ExitCode != 0)
                Assert.Fail(string.Join(" | ", output) + " " + await secondErr);
            var completed = output.Last(l => l.StartsWith("workflow imp-1 completed: ", StringComparison.Ordinal));
            var result = JsonDocument.Parse(completed["workflow imp-1 completed: ".Length..]).RootElement;
            Assert.Equal(2, result.GetProperty("attempt").GetInt32());
            var fromRow = result.GetProperty("fromRow").GetInt32();
            // The second attempt began after the last row recorded: about a heartbeat interval (2 s: 100 rows) before the hang at most.
            Assert.InRange(fromRow, Math.Max(2, imported - 150), imported + 1);

            // The journal says why the first attempt was run again.
            var history = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "imp-1", "--json")).Stdout).RootElement;
            var failure = Assert.Single(history.GetProperty("steps")[0].GetProperty("failures").EnumerateArray());
            Assert.Contains("no heartbeat for", failure.GetProperty("error").GetString(), StringComparison.Ordinal);

            // Every row imported; the rows imported twice are those after the last heartbeat recorded, none three times.
            var rows = Rows(folder.Path);
            Assert.Equal(Enumerable.Range(1, 1000), rows.Distinct().Order());
            var twice = rows.GroupBy(r => r).Where(g => g.Count() > 1).Select(g => g.Key).Order().ToArray();
            Assert.All(rows.GroupBy(r => r), g => Assert.True(g.Count() <= 2, $"row {g.Key} imported {g.Count()} times"));
            Assert.All(twice, r => Assert.InRange(r, fromRow, imported));
        }
        finally
        {
            first.Kill();
            await first.WaitForExitAsync();
            _ = (await firstOut, await firstErr);
            if (second is { HasExited: false })
                second.Kill();
            second?.Dispose();
        }
    }
}
