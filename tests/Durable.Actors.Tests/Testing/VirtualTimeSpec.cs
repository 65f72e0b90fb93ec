using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Testing;

/// <summary>The test host's virtual time: days of sleeps and timeouts pass when the test says so, never in real time.</summary>
public sealed class VirtualTimeSpec
{
    private static readonly DateTimeOffset T0 = WorkflowTestHostOptions.DefaultStartTime;

    private static WorkflowRegistry Sleeper(EffectRecorder effects) => new WorkflowRegistry().Add<string, string>("sleeper", async (ctx, name) =>
    {
        var before = await ctx.StepAsync("before", () => { effects.Record("before"); return "a"; });
        await ctx.SleepAsync(TimeSpan.FromDays(3));
        var woke = await ctx.NowAsync();
        await ctx.StepAsync("after", () => { effects.Record("after"); return woke; });
        return $"{before} {name} woke at {woke:O}";
    });

    [Fact]
    public async Task SleepOfThreeDays_EndsWhenTheTestAdvancesTheClock_NotBefore()
    {
        var effects = new EffectRecorder();
        await using var host = await WorkflowTestHost.StartAsync(Sleeper(effects), new WorkflowTestHostOptions { AutoAdvance = false });

        var handle = await host.Client.StartAsync<string, string>("sleeper", "nap-1", "ada");
        await host.AdvanceAsync(TimeSpan.FromDays(2));
        var status = await host.GetStatusAsync("nap-1");
        Assert.Equal((WorkflowRunStatus.Running, 1, 0), (status!.Status, effects.Count("before"), effects.Count("after")));
        Assert.StartsWith("sleeping until 2026-01-04T00:00:00", status.WaitingFor);

        await host.AdvanceAsync(TimeSpan.FromDays(1));

        Assert.Equal($"a ada woke at {T0.AddDays(3):O}", await host.GetResultAsync(handle));
        Assert.Equal((1, 1), (effects.Count("before"), effects.Count("after")));
        Assert.Equal(T0.AddDays(3), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task RaceOfADeadlineAndASignal_WithNoSignal_TimeMovesToTheDeadlineAndItWins()
    {
        var registry = new WorkflowRegistry().Add<string, string>("deadline", async (ctx, _) =>
        {
            string? by = null;
            var winner = await ctx.WhenAnyAsync(
                c => c.SleepAsync(TimeSpan.FromDays(3)),
                async c => by = (await c.WaitForSignalAsync<string>("approve")).Payload);
            return winner == 0 ? $"escalated at {await ctx.NowAsync():O}" : $"approved by {by}";
        });
        await using var host = await WorkflowTestHost.StartAsync(registry);

        Assert.Equal($"escalated at {T0.AddDays(3):O}", await host.RunAsync<string, string>("deadline", "race-1", "claim"));
    }

    [Fact]
    public async Task StartOptionsTimeout_TimeMovesToTheDeadline_AndTheWorkflowEndsCancelledAsTimedOut()
    {
        var registry = new WorkflowRegistry().Add<string, string>("slow", async (ctx, _) =>
        {
            await ctx.SleepAsync(TimeSpan.FromDays(1));
            return "woke";
        });
        await using var host = await WorkflowTestHost.StartAsync(registry);

        var handle = await host.Client.StartAsync<string, string>("slow", "late-1", "x", new StartOptions { Timeout = TimeSpan.FromHours(1) });

        var cancelled = await Assert.ThrowsAsync<WorkflowCancelledException>(() => host.GetResultAsync(handle));
        Assert.Equal($"timed out: its deadline {T0.AddHours(1):O} passed", cancelled.Reason);
        Assert.Equal(T0.AddHours(1), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task AdvanceAsync_WaitsUntilCodeThatTakesAWhileBetweenStepsReachesItsSleep()
    {
        var registry = new WorkflowRegistry().Add<string, string>("slow-sleeper", async (ctx, name) =>
        {
            await ctx.StepAsync("before", () => name);
            // Code outside steps that takes a while (in real time), as any code may on a loaded machine.
#pragma warning disable DURABLE0002 // The slow code this test is about: real time passes outside the engine.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
#pragma warning restore DURABLE0002
            await ctx.SleepAsync(TimeSpan.FromDays(3));
            return $"woke at {await ctx.NowAsync():O}";
        });
        await using var host = await WorkflowTestHost.StartAsync(registry, new WorkflowTestHostOptions { AutoAdvance = false });

        var handle = await host.Client.StartAsync<string, string>("slow-sleeper", "nap-3", "ada");
        await host.AdvanceAsync(TimeSpan.FromDays(2));
        Assert.StartsWith("sleeping until 2026-01-04T00:00:00", (await host.GetStatusAsync("nap-3"))!.WaitingFor);

        await host.AdvanceAsync(TimeSpan.FromDays(1));
        Assert.Equal($"woke at {T0.AddDays(3):O}", await host.GetResultAsync(handle));
    }

    [Fact]
    public async Task RunAsync_MovesTimeByItselfWhileTheTestAwaitsTheResult()
    {
        var effects = new EffectRecorder();
        await using var host = await WorkflowTestHost.StartAsync(Sleeper(effects));

        var result = await host.RunAsync<string, string>("sleeper", "nap-2", "grace");

        Assert.Equal($"a grace woke at {T0.AddDays(3):O}", result);
        Assert.Equal(T0.AddDays(3), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task ApprovalSample_NoDecisionWithinItsTimeout_Escalates()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));
        await using var host = await WorkflowTestHost.StartAsync(registry, new WorkflowTestHostOptions { AutoAdvance = false });

        var handle = await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "exp-1", ExpenseRequest.Default);
        await host.AdvanceAsync(TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1));
        Assert.StartsWith("waiting for signal 'decision'", (await host.GetStatusAsync("exp-1"))!.WaitingFor);
        await host.AdvanceAsync(TimeSpan.FromSeconds(1));

        Assert.Equal("escalated", await host.GetResultAsync(handle));
        Assert.Equal(["exp-1 submit-expense", "exp-1 escalate"], File.ReadAllLines(folder.File("effects.log")));
    }

    [Fact]
    public async Task ApprovalSample_DecisionBeforeTheTimeout_PaysWithoutWaiting()
    {
        using var folder = new TempFolder();
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));
        await using var host = await WorkflowTestHost.StartAsync(registry);

        var handle = await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "exp-2", ExpenseRequest.Default);
        await host.AdvanceAsync(TimeSpan.FromDays(1));
        await handle.SignalAsync(ApprovalWorkflow.DecisionSignal, new ExpenseDecision(true, "grace"));

        Assert.Equal("paid 120.50 to Ada Lovelace, approved by grace", await host.GetResultAsync(handle));
        Assert.Equal(T0.AddDays(1), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task RetryDelays_PassOnTheVirtualClock()
    {
        var attempts = 0;
        var registry = new WorkflowRegistry().Add<int, int>("flaky", async (ctx, _) =>
            await ctx.StepAsync("call", () => ++attempts < 3 ? throw new InvalidOperationException("not yet") : attempts,
                new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromHours(1), MaxDelay = TimeSpan.FromDays(1), Jitter = 0 }));
        await using var host = await WorkflowTestHost.StartAsync(registry);

        Assert.Equal(3, await host.RunAsync<int, int>("flaky", "flaky-1", 0));
        Assert.Equal(T0.AddHours(3), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task ChildThatSleeps_ParentGetsItsResultAfterTheVirtualWeek()
    {
        var registry = new WorkflowRegistry()
            .Add<int, int>("child", async (ctx, n) =>
            {
                await ctx.SleepAsync(TimeSpan.FromDays(7));
                return await ctx.StepAsync("square", () => n * n);
            })
            .Add<int, int>("parent", async (ctx, n) =>
            {
                var children = new List<ChildWorkflow<int>>();
                for (var i = 1; i <= n; i++)
                    children.Add(await ctx.StartChildAsync<int, int>("child", i));
                var total = 0;
                foreach (var child in children)
                    total += await child.GetResultAsync();
                return total;
            });
        await using var host = await WorkflowTestHost.StartAsync(registry);

        Assert.Equal(14, await host.RunAsync<int, int>("parent", "family", 3));
        Assert.Equal(T0.AddDays(7), host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task CancelWhileSleeping_CleanupRunsAndTheWorkflowEndsCancelled()
    {
        var effects = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<string, string>("trial", async (ctx, who) =>
        {
            try
            {
                await ctx.SleepAsync(TimeSpan.FromDays(30));
                return "converted";
            }
            finally
            {
                await ctx.StepAsync("revoke-access", () => { effects.Record("revoke"); return 1; });
            }
        });
        await using var host = await WorkflowTestHost.StartAsync(registry, new WorkflowTestHostOptions { AutoAdvance = false });

        var handle = await host.Client.StartAsync<string, string>("trial", "trial-1", "ada");
        await host.AdvanceAsync(TimeSpan.FromDays(10));
        await handle.CancelAsync("unsubscribed");

        await Assert.ThrowsAsync<WorkflowCancelledException>(() => host.GetResultAsync(handle));
        Assert.Equal(1, effects.Count("revoke"));
        Assert.Equal(T0.AddDays(10), host.Clock.GetUtcNow());
    }
}
