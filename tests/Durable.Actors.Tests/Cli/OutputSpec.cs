using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>What the CLI prints for people and scripts: JSON as written, one spelling of a status, help that names every status.</summary>
public sealed class OutputSpec
{
    [Fact]
    public async Task Json_TextWithQuotesAndPlus_IsPrintedAsWrittenByEveryCommand()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval");
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-2", "--type", "approval");
        var cancelled = await TestSupport.Cli.RunAsync(folder.Path, "cancel", "exp-1", "--reason", "Ada's claim + Bob's");
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());

        foreach (var args in new[] { ["status", "exp-1", "--json"], ["history", "exp-1", "--json"], new[] { "list", "--json" } })
        {
            var run = await TestSupport.Cli.RunAsync(folder.Path, args);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("\"cancelled: Ada's claim + Bob's\"", run.Stdout);
            Assert.DoesNotContain("\\u00", run.Stdout);
        }
        // The check's detail of the waiting exp-2: "… (waiting for signal 'decision' until 2026-…+00:00)".
        var check = await TestSupport.Cli.RunAsync(folder.Path, "check", "--json");
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Matches(@"waiting for signal 'decision' until [^""]*\+00:00", check.Stdout);
        Assert.DoesNotContain("\\u00", check.Stdout);
    }

    [Fact]
    public async Task CheckJson_WorkflowStatus_IsUpperCaseAsStatusPrintsIt()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval");

        var check = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "check", "--json")).Stdout).RootElement;
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-1", "--json")).Stdout).RootElement;

        Assert.Equal("RUNNING", status.GetProperty("status").GetString());
        Assert.Equal("RUNNING", check.GetProperty("workflows")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task ListJson_WaitingWorkflow_SaysWhatItWaitsForAsStatusDoes()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval");
        await TestSupport.Cli.RunAsync(folder.Path, "start", "rep-1", "--type", "report");

        var list = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "list", "--json")).Stdout).RootElement;
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-1", "--json")).Stdout).RootElement;

        var waiting = list.EnumerateArray().Single(w => w.GetProperty("workflowId").GetString() == "exp-1");
        var completed = list.EnumerateArray().Single(w => w.GetProperty("workflowId").GetString() == "rep-1");
        Assert.StartsWith("waiting for signal 'decision' until ", waiting.GetProperty("waitingFor").GetString());
        Assert.Equal(status.GetProperty("waitingFor").GetString(), waiting.GetProperty("waitingFor").GetString());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("waitingFor").ValueKind);
    }

    [Fact]
    public async Task ListHelp_NamesEveryStatusAListTakes()
    {
        using var folder = new TempFolder();

        var help = await TestSupport.Cli.RunAsync(folder.Path, "list", "--help");

        Assert.True(help.ExitCode == 0, help.ToString());
        var line = Assert.Single(help.StdoutLines, l => l.StartsWith("--status", StringComparison.Ordinal));
        Assert.EndsWith("Only workflows with this status: running, completed, failed, cancelled, paused or enqueued", line);
    }
}
