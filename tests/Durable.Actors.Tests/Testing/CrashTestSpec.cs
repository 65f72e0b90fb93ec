using System.Diagnostics;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Testing;

/// <summary>The crash test on workflows of every shape: each passes at every point, and a buggy one is caught.</summary>
public sealed class CrashTestSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task TwentySequentialSteps_EveryPointPasses()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<int, int>("twenty", async (ctx, steps) =>
        {
            var total = 0;
            for (var i = 1; i <= steps; i++)
            {
                var n = i;
#pragma warning disable DURABLE0008 // Each step is named after its number, as the crash points in the report are; the same on every run.
                total += await ctx.StepAsync($"step-{n}", () => { effects.Record($"effect-{n}"); return n; });
#pragma warning restore DURABLE0008
            }
            return total;
        });
        var clock = Stopwatch.StartNew();

        var report = await CrashTest.RunAsync(registry, "twenty", 20, new CrashTestOptions { Effects = effects });

        output.WriteLine($"{report} in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(report.Passed, report.ToString());
        Assert.Equal("COMPLETED 210", report.ExpectedOutcome);
        // The start, one write per step (each carries the previous step's completion), the end.
        Assert.Equal(22, report.JournalWrites);
        Assert.Equal(20, report.StepBodies);
        Assert.Equal(42, report.CrashPoints);
    }

    private async Task<CrashTestReport> PassesAsync<TInput>(WorkflowRegistry registry, string type, TInput input, CrashTestOptions? options = null)
    {
        var clock = Stopwatch.StartNew();
        var report = await CrashTest.RunAsync(registry, type, input, options);
        output.WriteLine($"{report} in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(report.Passed, report.ToString());
        return report;
    }

    [Fact]
    public async Task OnboardingSample_ParallelBranches_EveryPointPasses()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

        var report = await PassesAsync(registry, OnboardingWorkflow.TypeName, NewHire.Default, new CrashTestOptions { WorkflowId = "wf-1" });

        Assert.StartsWith("COMPLETED {\"employeeId\":\"EMP-", report.ExpectedOutcome);
        Assert.Equal(4, report.StepBodies);
    }

    [Fact]
    public async Task ReportSample_EveryPointPasses()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

        var report = await PassesAsync(registry, ReportWorkflow.TypeName, ReportRequest.Default, new CrashTestOptions { WorkflowId = "long" });

        Assert.Equal("COMPLETED 385", report.ExpectedOutcome);
        Assert.Equal(10, report.StepBodies);
    }

    [Fact]
    public async Task ApprovalSample_SignalSentWhileItWaits_EveryPointPasses()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

        var report = await PassesAsync(registry, ApprovalWorkflow.TypeName, ExpenseRequest.Default, new CrashTestOptions
        {
            WorkflowId = "exp-1",
            Send = [Send.Signal(ApprovalWorkflow.DecisionSignal, new ExpenseDecision(false, "grace"))],
        });

        Assert.Equal("COMPLETED \"rejected by grace\"", report.ExpectedOutcome);
    }

    [Fact]
    public async Task ApprovalSample_NoSignal_TimesOutOnTheVirtualClockAtEveryPoint()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

        var report = await PassesAsync(registry, ApprovalWorkflow.TypeName, ExpenseRequest.Default, new CrashTestOptions { WorkflowId = "exp-2" });

        Assert.Equal("COMPLETED \"escalated\"", report.ExpectedOutcome);
    }

    [Fact]
    public async Task ReportBatchSample_ChildWorkflows_EveryPointPasses()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

        var report = await PassesAsync(registry, ReportBatchWorkflow.TypeName, new ReportBatchRequest(2, new ReportRequest(3)), new CrashTestOptions { WorkflowId = "batch-1" });

        Assert.Equal("COMPLETED 28", report.ExpectedOutcome);
        // Two steps that start the children, three sections in each.
        Assert.Equal(8, report.StepBodies);
    }

    [Fact]
    public async Task Timer_SleepOfDays_EveryPointPasses()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<string, string>("reminder", async (ctx, who) =>
        {
            await ctx.StepAsync("send-invoice", () => { effects.Record($"invoice:{who}"); return 1; });
            await ctx.SleepAsync(TimeSpan.FromDays(14));
            var paid = await ctx.StepAsync("check-payment", () => { effects.Record($"check:{who}"); return false; });
            if (!paid)
                await ctx.StepAsync("send-reminder", () => { effects.Record($"reminder:{who}"); return 1; });
            return paid ? "paid" : "reminded";
        });

        var report = await PassesAsync(registry, "reminder", "ada", new CrashTestOptions { Effects = effects });

        Assert.Equal("COMPLETED \"reminded\"", report.ExpectedOutcome);
    }

    [Fact]
    public async Task Cancellation_CleanupStepsRunOnceAtEveryPoint()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<string, string>("booking", async (ctx, who) =>
        {
            await ctx.StepAsync("reserve-seat", () => { effects.Record("reserve"); return 1; });
            try
            {
                await ctx.WaitForSignalAsync<string>("paid");
                await ctx.StepAsync("confirm", () => { effects.Record("confirm"); return 1; });
                return "confirmed";
            }
            catch (OperationCanceledException)
            {
                await ctx.StepAsync("release-seat", () => { effects.Record("release"); return 1; });
                throw;
            }
        });

        var report = await PassesAsync(registry, "booking", "ada", new CrashTestOptions { Effects = effects, Send = [Send.Cancel("customer left")] });

        Assert.Equal("CANCELLED cancelled: customer left", report.ExpectedOutcome);
    }

    [Fact]
    public async Task SideEffectOutsideAStep_IsCaughtWithTheCrashPoint()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<string, string>("careless", async (ctx, who) =>
        {
            await ctx.StepAsync("create-account", () => { effects.Record("account"); return 1; });
            effects.Record("welcome-email");    // a bug: not in a step, so every replay sends it again
            await ctx.StepAsync("grant-access", () => { effects.Record("access"); return 1; });
            return "done";
        });

        var report = await CrashTest.RunAsync(registry, "careless", "ada", new CrashTestOptions { Effects = effects });

        output.WriteLine(report.ToString());
        Assert.False(report.Passed);
        var failure = Assert.Single(report.Failures, f => f.CrashPoint.StartsWith("after journal write 3 (step crash-test:1 completed with step crash-test:2 'grant-access' started", StringComparison.Ordinal));
        Assert.Equal("effect 'welcome-email' happened 2 times; without crashes once; recorded outside any step body after the crash: workflow code runs again on every replay, so side effects belong in steps", failure.Problem);
        Assert.All(report.Failures, f => Assert.Contains("'welcome-email'", f.Problem, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NondeterministicCodeOutsideSteps_IsCaughtAsAnotherOutcome()
    {
        var registry = new WorkflowRegistry().Add<string, string>("random", async (ctx, who) =>
        {
            var ticket = await ctx.StepAsync("open-ticket", () => "T-1");
#pragma warning disable DURABLE0001 // The bug the crash test must find: a new value on every replay; ctx.NewGuidAsync() records it.
            var id = Guid.NewGuid();
#pragma warning restore DURABLE0001
            await ctx.StepAsync("assign", () => 1);
            return $"{ticket} {id}";
        });

        var report = await CrashTest.RunAsync(registry, "random", "ada", new CrashTestOptions { CrashAfterStepBodies = false });

        output.WriteLine(report.ToString());
        Assert.False(report.Passed);
        Assert.Contains(report.Failures, f => f.CrashPoint.StartsWith("after journal write 2 ", StringComparison.Ordinal)
            && f.Problem.StartsWith("the workflow ended COMPLETED \"T-1 ", StringComparison.Ordinal) && f.Problem.Contains("; without crashes it ended COMPLETED \"T-1 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CodeThatReadsChangingStateOutsideSteps_RunsAStepTheReferenceRunNeverRan()
    {
        var reads = 0;
        var registry = new WorkflowRegistry().Add<string, string>("flagged", async (ctx, who) =>
        {
            await ctx.StepAsync("create", () => 1);
            // A bug: a flag read outside a step can change between the first run and a replay.
            if (Interlocked.Increment(ref reads) % 2 == 0)
                await ctx.StepAsync("bonus", () => 1);
            return "done";
        });

        var report = await CrashTest.RunAsync(registry, "flagged", "ada");

        output.WriteLine(report.ToString());
        Assert.Contains(report.Failures, f => f.StepId == "bonus" && f.Problem.Contains("its body ran once (0 before the crash, 1 after); the guarantees allow 0 times (without crashes 0 times)", StringComparison.Ordinal));
    }
}
