using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

public sealed class CliSpec
{
    private static readonly string[] Steps = ["create-employee", "provision-laptop", "provision-access", "send-welcome-email"];

    [Fact]
    public async Task Start_OnboardingSample_PrintsOneExecutedLinePerStepAndCompletes()
    {
        using var folder = new TempFolder();

        var run = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            ["wf-1:1 create-employee executed", "wf-1:2 provision-laptop executed", "wf-1:3 provision-access executed", "wf-1:4 send-welcome-email executed"],
            run.StdoutLines[..4]);
        Assert.StartsWith("workflow wf-1 completed: {\"employeeId\":\"EMP-", run.StdoutLines[4]);
        Assert.Equal(Steps.Select(s => $"wf-1 {s}"), TestSupport.Cli.Effects(folder.Path));
        Assert.True(File.Exists(folder.Database));
    }

    [Fact]
    public async Task Resume_CompletedWorkflow_ReplaysEveryStepAndRunsNoBody()
    {
        using var folder = new TempFolder();
        var first = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-2");

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "wf-2");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(Steps.Select((s, i) => $"wf-2:{i + 1} {s} replayed"), resumed.StdoutLines[..4]);
        Assert.Equal(first.StdoutLines[4], resumed.StdoutLines[4]);
        Assert.Equal(4, TestSupport.Cli.Effects(folder.Path).Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task CrashAfter_StepN_ResumeRunsEveryStepExactlyOnceWithTheResultAndHistoryOfARunWithoutCrash(int n)
    {
        using var baselineFolder = new TempFolder();
        using var folder = new TempFolder();
        var baseline = await TestSupport.Cli.RunAsync(baselineFolder.Path, "start", "wf");

        var crashed = await TestSupport.Cli.RunAsync(folder.Path, "crash-after", "wf", n.ToString());

        Assert.True(crashed.ExitCode is not (0 or 1 or 2), crashed.ToString());
        Assert.Equal(Steps.Take(n - 1).Select(s => $"wf {s}"), TestSupport.Cli.Effects(folder.Path));
        Assert.Equal(Steps.Take(n - 1).Select((s, i) => $"wf:{i + 1} {s} executed"), crashed.StdoutLines);
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf", "--json")).Stdout).RootElement;
        Assert.Equal("RUNNING", status.GetProperty("workflow").GetProperty("status").GetString());
        Assert.Equal("IN_PROGRESS", status.GetProperty("steps")[n - 1].GetProperty("status").GetString());

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "wf", "--stale-timeout", "0s");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(Steps.Select(s => $"wf {s}"), TestSupport.Cli.Effects(folder.Path));
        Assert.Equal(baseline.StdoutLines[^1], resumed.StdoutLines[^1]);
        Assert.Equal(await HistoryAsync(baselineFolder.Path), await HistoryAsync(folder.Path));
        var crashedStep = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf", "--json")).Stdout)
            .RootElement.GetProperty("steps")[n - 1];
        Assert.Equal(2, crashedStep.GetProperty("attempts").GetInt32());
        Assert.StartsWith("stale:", crashedStep.GetProperty("error").GetString());
    }

    [Fact]
    public async Task StatusAndList_WithJson_PrintParseableStatus()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-3");

        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "wf-3", "--json");
        var list = await TestSupport.Cli.RunAsync(folder.Path, "list", "--json");
        var text = await TestSupport.Cli.RunAsync(folder.Path, "list");

        var workflow = JsonDocument.Parse(status.Stdout).RootElement;
        Assert.Equal(("wf-3", "onboarding", "COMPLETED", 4), (
            workflow.GetProperty("workflowId").GetString(), workflow.GetProperty("workflowType").GetString(),
            workflow.GetProperty("status").GetString(), workflow.GetProperty("steps").GetInt32()));
        Assert.StartsWith("welcome-EMP-", workflow.GetProperty("result").GetProperty("welcomeEmailId").GetString());
        Assert.Equal(["wf-3"], JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("workflowId").GetString()));
        Assert.Contains(text.StdoutLines, l => l.StartsWith("wf-3") && l.Contains("COMPLETED"));
    }

    /// <summary>Each step's key, id, status and result: what must match a run without crash (attempts and times differ).</summary>
    private static async Task<string[]> HistoryAsync(string folder)
    {
        var history = await TestSupport.Cli.RunAsync(folder, "history", "wf", "--json");
        var root = JsonDocument.Parse(history.Stdout).RootElement;
        return
        [
            root.GetProperty("workflow").GetProperty("status").GetString()!,
            root.GetProperty("workflow").GetProperty("result").GetRawText(),
            .. root.GetProperty("steps").EnumerateArray().Select(s =>
                $"{s.GetProperty("key")} {s.GetProperty("stepId")} {s.GetProperty("status")} {s.GetProperty("result").GetRawText()}"),
        ];
    }
}
