using Durable.Actors.Tests.Engine;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// <c>fork</c> through the CLI: what the source recorded before the point replays and the rest runs; a SIGKILL midway
/// leaves the new workflow whole or absent, and the same fork again ends it; bad input changes nothing.
/// </summary>
public sealed class ForkSpec
{
    [Fact]
    public async Task ForkFromTheEmail_RunsTheEmailAlone_AndAForkWithoutFromRestartsFromTheTop()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1")).ExitCode);

        var fork = await TestSupport.Cli.RunAsync(folder.Path, "fork", "onb-1", "--from", "onb-1:4", "--new-id", "onb-1b");
        var restart = await TestSupport.Cli.RunAsync(folder.Path, "fork", "onb-1");
        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "onb-1b");

        Assert.True(fork.ExitCode == 0, fork.ToString());
        Assert.Equal("forking onb-1 from onb-1:4 as onb-1b", fork.StdoutLines[0]);
        Assert.StartsWith("workflow onb-1b completed: ", fork.StdoutLines[^1], StringComparison.Ordinal);
        Assert.True(restart.ExitCode == 0, restart.ToString());
        var restartId = restart.StdoutLines[0].Split(' ')[^1];
        Assert.Matches("^onb-1-fork-[0-9a-f]{8}$", restartId);
        var effects = TestSupport.Cli.Effects(folder.Path);
        Assert.Equal(["onb-1b send-welcome-email"], effects.Where(e => e.StartsWith("onb-1b ", StringComparison.Ordinal)));
        Assert.Equal(4, effects.Count(e => e.StartsWith(restartId + " ", StringComparison.Ordinal)));
        Assert.EndsWith("; forked from onb-1 at onb-1:4", status.StdoutLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForkKilledMidway_LeavesTheNewWorkflowWholeOrAbsent_AndTheSameForkAgainEndsItWithoutRunningWhatItCarried()
    {
        using var folder = new TempFolder();
        const int sections = 1500;
        var started = await TestSupport.Cli.RunAsync(folder.Path, "start", "rep-1", "--type", "report", "--input", $"{{\"sections\":{sections}}}");
        Assert.True(started.ExitCode == 0, started.ToString());
        var sourceRows = JournalRows.Of(folder.Database, "rep-1").Count;
        string[] fork = ["fork", "rep-1", "--from", $"{sections - 2}", "--new-id", "rep-1b", "--input", $"{{\"sections\":{sections},\"workMilliseconds\":200}}"];

        using (var forking = TestSupport.Cli.Start(folder.Path, fork))
        {
            _ = forking.StandardError.ReadToEndAsync();
            while (await forking.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("forking ", StringComparison.Ordinal))
            {
            }
            forking.Kill();
            await forking.WaitForExitAsync();
        }

        // One transaction: nothing of it, or the start and every record carried (what ran after it adds to them).
        var rows = JournalRows.Of(folder.Database, "rep-1b").Count;
        var carried = 1 + 2 * (sections - 3);
        Assert.True(rows == 0 || rows >= carried, $"{rows} rows of the fork written, of its first {carried}");
        Assert.Equal(rows > 0, WorkflowIndexSpec.IndexRows(folder.Database).Any(r => r.WorkflowId == "rep-1b"));

        var again = await TestSupport.Cli.RunAsync(folder.Path, fork);

        Assert.True(again.ExitCode == 0, again.ToString());
        var total = Enumerable.Range(1, sections).Sum(n => n * n);
        Assert.Equal($"workflow rep-1b completed: {total}", again.StdoutLines[^1]);
        var ran = TestSupport.Cli.Effects(folder.Path).Where(e => e.StartsWith("rep-1b ", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal([$"rep-1b section-{sections - 2}", $"rep-1b section-{sections - 1}", $"rep-1b section-{sections}"], ran);
        Assert.Equal(sourceRows, JournalRows.Of(folder.Database, "rep-1").Count);
    }

    [Fact]
    public async Task BadFork_ExitsTwoWithOneLineAndChangesNothing()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1")).ExitCode);
        Assert.Equal(3, (await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);
        (string Expected, string[] Args)[] cases =
        [
            ("error: unknown workflow 'nope' in ", ["fork", "nope"]),
            ("error: workflow 'onb-1c' was not started: workflow 'onb-1' has no operation at key 'onb-1:9' (its keys: onb-1:1, onb-1:2, onb-1:2.1, onb-1:3.1, onb-1:4)",
                ["fork", "onb-1", "--from", "9", "--new-id", "onb-1c"]),
            ("error: workflow 'exp-1b' was not started: source workflow 'exp-1' is RUNNING: only a completed, failed or cancelled workflow can be forked (cancel it first)",
                ["fork", "exp-1", "--new-id", "exp-1b"]),
            ("error: workflow 'onb-1' exists already: fork to an id that does not exist; nothing was changed", ["fork", "exp-1", "--new-id", "onb-1"]),
            ("error: --input is not valid JSON", ["fork", "onb-1", "--input", "{name"]),
            ("error: --input does not fit workflow type 'onboarding'", ["fork", "onb-1", "--input", "42"]),
        ];

        foreach (var (expected, args) in cases)
        {
            var run = await TestSupport.Cli.RunAsync(folder.Path, args);

            Assert.True(run.ExitCode == 2, run.ToString());
            Assert.StartsWith(expected, Assert.Single(run.StderrLines), StringComparison.Ordinal);
            Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
        }
    }
}
