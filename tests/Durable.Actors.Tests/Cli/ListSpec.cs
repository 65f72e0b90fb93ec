using System.Text.Json;
using Durable.Actors.Storage;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary><c>list</c> through the real CLI: pages, filters, and an index that a SIGKILL leaves as the journal has it.</summary>
public sealed class ListSpec
{
    private static string? Cursor(CliResult run, bool json = false) =>
        (json ? run.StderrLines : run.StdoutLines).SingleOrDefault(l => l.StartsWith("next page: --after ", StringComparison.Ordinal))?["next page: --after ".Length..];

    private static string[] Ids(CliResult run) =>
        JsonDocument.Parse(run.Stdout).RootElement.EnumerateArray().Select(w => w.GetProperty("workflowId").GetString()!).ToArray();

    [Fact]
    public async Task List_WithLimitAndCursor_PagesThroughEveryWorkflowOnceNewestFirst()
    {
        using var folder = new TempFolder();
        foreach (var id in new[] { "wf-1", "wf-2", "wf-3" })
            Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", id, "--type", "report")).ExitCode);

        var first = await TestSupport.Cli.RunAsync(folder.Path, "list", "--limit", "2", "--json");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(["wf-3", "wf-2"], Ids(first));
        var cursor = Cursor(first, json: true);
        Assert.NotNull(cursor);
        var second = await TestSupport.Cli.RunAsync(folder.Path, "list", "--limit", "2", "--after", cursor);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains(second.StdoutLines, l => l.StartsWith("wf-1 ", StringComparison.Ordinal) && l.Contains("COMPLETED"));
        Assert.Null(Cursor(second));
        Assert.Equal(2, second.StdoutLines.Length);   // the header and wf-1

        var text = await TestSupport.Cli.RunAsync(folder.Path, "list", "--limit", "1");
        Assert.Equal($"next page: --after {Cursor(text)}", text.StdoutLines[^1]);

        Assert.Equal(["wf-3", "wf-2", "wf-1"], Ids(await TestSupport.Cli.RunAsync(folder.Path, "list", "--status", "completed", "--type", "report", "--json")));
        Assert.Empty(Ids(await TestSupport.Cli.RunAsync(folder.Path, "list", "--status", "FAILED", "--json")));
        Assert.Equal(["no workflows"], (await TestSupport.Cli.RunAsync(folder.Path, "list", "--type", "onboarding")).StdoutLines);
    }

    [Fact]
    public async Task List_WithAPrefix_ShowsOnlyTheWorkflowsWhoseIdStartsWithIt()
    {
        using var folder = new TempFolder();
        foreach (var id in new[] { "order-1", "order-2", "refund-1" })
            Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", id, "--type", "report")).ExitCode);

        Assert.Equal(["order-2", "order-1"], Ids(await TestSupport.Cli.RunAsync(folder.Path, "list", "--prefix", "order-", "--json")));
        Assert.Equal(["refund-1"], Ids(await TestSupport.Cli.RunAsync(folder.Path, "list", "--prefix", "refund", "--type", "report", "--json")));
        Assert.Empty(Ids(await TestSupport.Cli.RunAsync(folder.Path, "list", "--prefix", "Order-", "--json")));   // case-sensitive
    }

    [Fact]
    public async Task List_AfterAKillMidRun_ShowsTheWorkflowAsTheJournalHasIt()
    {
        using var folder = new TempFolder();
        var crashed = await TestSupport.Cli.RunAsync(folder.Path, "crash-after", "wf", "3", "--type", "report");
        Assert.Equal(137, crashed.ExitCode);

        var listed = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "list", "--json")).Stdout).RootElement.EnumerateArray().Single();
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "wf", "--json")).Stdout).RootElement;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(status.GetRawText()), System.Text.Json.Nodes.JsonNode.Parse(listed.GetRawText())), listed.GetRawText());
        Assert.Equal(("RUNNING", 3), (listed.GetProperty("status").GetString(), listed.GetProperty("stepCount").GetInt32()));

        using var connection = new SqliteConnection($"Data Source={folder.Database};Pooling=False");
        connection.Open();
        var written = WorkflowIndexStore.All(connection);
        WorkflowIndexStore.Rebuild(connection);
        Assert.Equal(written, WorkflowIndexStore.All(connection));
    }
}
