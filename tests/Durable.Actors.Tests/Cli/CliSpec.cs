using System.Globalization;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

public sealed class CliSpec
{
    private static readonly string[] Steps = ["create-employee", "provision-laptop", "provision-access", "send-welcome-email"];

    private static readonly string[] Keys = ["1", "2.1", "3.1", "4"];

    [Fact]
    public async Task Start_OnboardingSample_PrintsOneExecutedLinePerStepAndCompletes()
    {
        using var folder = new TempFolder();

        var run = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Lines("wf-1", "executed"), run.StdoutLines[..4].Order());
        Assert.StartsWith("workflow wf-1 completed: {\"employeeId\":\"EMP-", run.StdoutLines[4]);
        Assert.Equal(Steps.Select(s => $"wf-1 {s}").Order(), TestSupport.Cli.Effects(folder.Path).Order());
        Assert.True(File.Exists(folder.Database));
    }

    [Fact]
    public async Task Start_OnboardingSample_RunsTheTwoProvisionStepsInParallel()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-p");

        var steps = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf-p", "--json")).Stdout)
            .RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("stepId").GetString()!, s => (Start: s.GetProperty("startedAt").GetDateTimeOffset(), End: s.GetProperty("endedAt").GetDateTimeOffset()));

        var (laptop, access) = (steps["provision-laptop"], steps["provision-access"]);
        Assert.True(laptop.Start < access.End && access.Start < laptop.End,
            $"laptop {laptop.Start:O}..{laptop.End:O} and access {access.Start:O}..{access.End:O} do not overlap");
    }

    [Fact]
    public async Task Resume_CompletedWorkflow_PrintsTheRecordedResultAndRunsNothing()
    {
        using var folder = new TempFolder();
        var first = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-2");

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "wf-2");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal([first.StdoutLines[4]], resumed.StdoutLines);
        Assert.Equal(4, TestSupport.Cli.Effects(folder.Path).Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task CrashAfter_StepN_ResumeRunsEachCompletedStepOnceAndMatchesARunWithoutCrash(int n)
    {
        using var baselineFolder = new TempFolder();
        using var folder = new TempFolder();
        var baseline = await TestSupport.Cli.RunAsync(baselineFolder.Path, "start", "wf");

        var crashed = await TestSupport.Cli.RunAsync(folder.Path, "crash-after", "wf", n.ToString(CultureInfo.InvariantCulture));

        Assert.True(crashed.ExitCode is not (0 or 1 or 2), crashed.ToString());
        var crashedStep = crashed.StderrLines.Single(l => l.StartsWith("crash-after: killing", StringComparison.Ordinal)).Split(' ')[7].TrimEnd(';');
        var before = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf", "--json")).Stdout).RootElement;
        Assert.Equal("RUNNING", before.GetProperty("status").GetString());
        var crashedStartedAt = before.GetProperty("steps").EnumerateArray()
            .Single(s => s.GetProperty("stepId").GetString() == crashedStep).GetProperty("startedAt").GetDateTimeOffset();
        var completedBefore = before.GetProperty("steps").EnumerateArray()
            .Where(s => s.GetProperty("status").GetString() == "COMPLETED").Select(s => s.GetProperty("stepId").GetString()!).ToList();
        // Steps that must have completed before the N-th step started; a parallel sibling may or may not have.
        var mustHaveCompleted = n switch { 1 => [], 2 or 3 => [Steps[0]], _ => Steps[..3] };
        Assert.Superset(mustHaveCompleted.ToHashSet(), completedBefore.ToHashSet());
        Assert.DoesNotContain($"wf {crashedStep}", TestSupport.Cli.Effects(folder.Path));
        Assert.All(completedBefore, s => Assert.Single(TestSupport.Cli.Effects(folder.Path), $"wf {s}"));

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "wf", "--stale-timeout", "0s");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var effects = TestSupport.Cli.Effects(folder.Path);
        Assert.All(Steps, s => Assert.InRange(effects.Count(e => e == $"wf {s}"), 1, 2));
        Assert.All(completedBefore.Append(crashedStep), s => Assert.Single(effects, $"wf {s}"));
        Assert.Equal(baseline.StdoutLines[^1], resumed.StdoutLines[^1]);
        Assert.Equal(await HistoryAsync(baselineFolder.Path), await HistoryAsync(folder.Path));
        var crashedRecord = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf", "--json")).Stdout)
            .RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("stepId").GetString() == crashedStep);
        Assert.Equal((2, "COMPLETED", JsonValueKind.Null), (
            crashedRecord.GetProperty("attempts").GetInt32(), crashedRecord.GetProperty("status").GetString(), crashedRecord.GetProperty("error").ValueKind));
        // The crashed attempt keeps its own start; it ended at an unknown time (the process died), not when found stale.
        var crashedAttempt = Assert.Single(crashedRecord.GetProperty("failures").EnumerateArray().ToList());
        Assert.Equal(1, crashedAttempt.GetProperty("attempt").GetInt32());
        Assert.Equal(crashedStartedAt, crashedAttempt.GetProperty("startedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, crashedAttempt.GetProperty("endedAt").ValueKind);
        Assert.True(crashedAttempt.GetProperty("recordedAt").GetDateTimeOffset() > crashedStartedAt);
        Assert.StartsWith("stale:", crashedAttempt.GetProperty("error").GetString());
        Assert.True(crashedRecord.GetProperty("startedAt").GetDateTimeOffset() > crashedStartedAt);
    }

    private static IEnumerable<string> Lines(string id, string word) =>
        Steps.Select((s, i) => $"{id}:{Keys[i]} {s} {word}").Order();

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
            workflow.GetProperty("status").GetString(), workflow.GetProperty("stepCount").GetInt32()));
        Assert.StartsWith("welcome-EMP-", workflow.GetProperty("result").GetProperty("welcomeEmailId").GetString());
        Assert.Equal(["wf-3"], JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("workflowId").GetString()));
        Assert.Contains(text.StdoutLines, l => l.StartsWith("wf-3", StringComparison.Ordinal) && l.Contains("COMPLETED"));
    }

    [Fact]
    public async Task StatusHistoryAndList_WithJson_ShareOneShapeForTheWorkflow()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-4");

        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "wf-4", "--json")).Stdout).RootElement;
        var history = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "wf-4", "--json")).Stdout).RootElement;
        var listed = Assert.Single(JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "list", "--json")).Stdout).RootElement.EnumerateArray().ToList());

        string[] workflowFields = ["workflowId", "workflowType", "status", "startedAt", "endedAt", "result", "error", "stepCount", "waitingFor"];
        Assert.Equal(workflowFields, status.EnumerateObject().Select(p => p.Name));
        Assert.Equal(workflowFields, listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal([.. workflowFields, "steps", "waits"], history.EnumerateObject().Select(p => p.Name));
        Assert.All(workflowFields, f => Assert.Equal(status.GetProperty(f).GetRawText(), history.GetProperty(f).GetRawText()));
        Assert.Equal(4, history.GetProperty("steps").GetArrayLength());
        Assert.All(history.GetProperty("steps").EnumerateArray(), s => Assert.Equal(
            ["key", "stepId", "status", "attempts", "startedAt", "endedAt", "result", "error", "failures"], s.EnumerateObject().Select(p => p.Name)));
    }

    /// <summary>Each step's key, id, status and result: what must match a run without crash (attempts and times differ).</summary>
    private static async Task<string[]> HistoryAsync(string folder)
    {
        var history = await TestSupport.Cli.RunAsync(folder, "history", "wf", "--json");
        var root = JsonDocument.Parse(history.Stdout).RootElement;
        return
        [
            root.GetProperty("status").GetString()!,
            root.GetProperty("result").GetRawText(),
            .. root.GetProperty("steps").EnumerateArray().Select(s =>
                $"{s.GetProperty("key")} {s.GetProperty("stepId")} {s.GetProperty("status")} {s.GetProperty("result").GetRawText()}"),
        ];
    }
}
