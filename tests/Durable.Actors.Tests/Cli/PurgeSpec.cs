using Durable.Actors.Tests.Engine;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary><c>purge</c> through the CLI: a dry run names, a purge deletes the ended workflows only, and a SIGKILL midway leaves each workflow whole or gone.</summary>
public sealed class PurgeSpec
{
    [Fact]
    public async Task DryRunThenPurge_DeletesTheEndedWorkflowsOnly_AndAPurgedIdStartsAnew()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1", "onb-2")).ExitCode);
        Assert.Equal(3, (await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);

        var dryRun = await TestSupport.Cli.RunAsync(folder.Path, "purge", "--status", "completed", "--dry-run");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Equal(["onb-1", "onb-2"], dryRun.StdoutLines.Where(l => l.StartsWith("would purge onb-", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).Order());
        Assert.Equal("would purge 2 workflows (dry run: nothing was deleted)", dryRun.StdoutLines[^1]);
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));

        // exp-1 matches the prefix too, but runs: it is left.
        var purged = await TestSupport.Cli.RunAsync(folder.Path, "purge", "--prefix", "o", "--before", "0s");
        var all = await TestSupport.Cli.RunAsync(folder.Path, "purge", "--prefix", "exp-");

        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.Equal(["purged onb-1", "purged onb-2"], purged.StdoutLines.Where(l => l.StartsWith("purged onb-", StringComparison.Ordinal)).Order());
        Assert.Equal("purged 2 workflows", purged.StdoutLines[^1]);
        Assert.Equal("purged 0 workflows", all.StdoutLines[^1]);
        Assert.Equal(["exp-1"], WorkflowIndexSpec.IndexRows(folder.Database).Select(r => r.WorkflowId));
        var unknown = await TestSupport.Cli.RunAsync(folder.Path, "status", "onb-1");
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        var again = await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(2, TestSupport.Cli.Effects(folder.Path).Count(e => e == "onb-1 create-employee"));
    }

    [Fact]
    public async Task PurgeKilledMidway_LeavesEachWorkflowWholeOrGone_AndASecondPurgeEndsIt()
    {
        using var folder = new TempFolder();
        var ids = Enumerable.Range(1, 150).Select(i => $"onb-{i}").ToArray();
        var started = await TestSupport.Cli.RunAsync(folder.Path, ["start", .. ids]);
        Assert.True(started.ExitCode == 0, started.ToString());
        var rows = ids.ToDictionary(id => id, id => JournalRows.Of(folder.Database, id).Count);

        using (var purge = TestSupport.Cli.Start(folder.Path, "purge", "--status", "completed"))
        {
            _ = purge.StandardError.ReadToEndAsync();
            while (await purge.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("purged onb-", StringComparison.Ordinal))
            {
            }
            purge.Kill();
            await purge.WaitForExitAsync();
        }

        var indexed = WorkflowIndexSpec.IndexRows(folder.Database).Select(r => r.WorkflowId).ToHashSet();
        var gone = 0;
        foreach (var id in ids)
        {
            var left = JournalRows.Of(folder.Database, id).Count;
            Assert.True(left == rows[id] || left == 0, $"{id}: {left} of its {rows[id]} rows left");
            Assert.Equal(left > 0, indexed.Contains(id));
            gone += left == 0 ? 1 : 0;
        }
        Assert.InRange(gone, 1, ids.Length);

        var rest = await TestSupport.Cli.RunAsync(folder.Path, "purge", "--status", "completed");

        Assert.True(rest.ExitCode == 0, rest.ToString());
        Assert.Equal($"purged {ids.Length - gone} workflows", rest.StdoutLines[^1]);
        Assert.Empty(WorkflowIndexSpec.IndexRows(folder.Database));
        Assert.All(ids, id => Assert.Empty(JournalRows.Of(folder.Database, id)));
    }

    [Theory]
    [InlineData("error: purge needs a filter: --status, --type, --prefix, --before or --where (nothing was purged)", "purge")]
    [InlineData("error: --status 'running' cannot be purged: only ended workflows are (completed, failed or cancelled)", "purge", "--status", "running")]
    [InlineData("error: --before 'yesterday' is not a duration", "purge", "--before", "yesterday")]
    public async Task BadPurge_ExitsTwoWithOneLineAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith(expected, Assert.Single(run.StderrLines));
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
    }
}
