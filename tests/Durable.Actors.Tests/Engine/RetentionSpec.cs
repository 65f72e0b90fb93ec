using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Configuration;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>Retention (<c>durable-actors.retention</c>): the sweep purges the ended workflows older than their status's period, on the workflow clock.</summary>
public sealed class RetentionSpec(ITestOutputHelper output) : EngineSpec(output, """
    durable-actors.passivate-after = 500ms
    durable-actors.retention { completed = 1h, cancelled = 1h, sweep-interval = 1m }
    """)
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly EffectRecorder _effects = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .Add<int, string>("charge", async (ctx, amount) =>
            await ctx.StepAsync("charge", () => { _effects.Record("charge"); return $"charged {amount}"; }))
        .Add<string, string>("approval", async (ctx, _) => (await ctx.WaitForSignalAsync<string>("approve")).Payload!)
        .Add<string, string>("failer", async (ctx, _) =>
            await ctx.StepAsync<string>("boom", () => throw new InvalidOperationException("it broke"), RetryPolicy.None));

    private async Task<IReadOnlyList<string>> IndexedIdsAsync() =>
        (await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { Limit = WorkflowQuery.MaxLimit })).Items.Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Sweep_PurgesTheWorkflowsEndedLongerAgoThanTheirStatusPeriod_AndKeepsTheRunningAndTheFailed()
    {
        var clock = new VirtualClock(T0);
        var coordinator = StartEngine(Registry(), clock: clock);
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-1", "charge", "5"), RunTimeout);
        await coordinator.Ask<WorkflowWaiting>(new StartWorkflow("claim-1", "approval"), RunTimeout);
        await coordinator.Ask<WorkflowWaiting>(new StartWorkflow("claim-2", "approval"), RunTimeout);
        await coordinator.Ask<CancellationRequested>(new CancelWorkflow("claim-2"), RunTimeout);
        await coordinator.Ask<WorkflowFailed>(new StartWorkflow("fail-1", "failer", "\"x\""), RunTimeout);
        await AwaitAssertAsync(async () =>
            Assert.Equal(WorkflowRunStatus.Cancelled, (await DurableWorkflows.GetStatusAsync(Sys, "claim-2"))!.Status), RunTimeout);

        // Time goes on, ten minutes a try: the sweep, every minute of it, purges them once they ended an hour ago.
        await AwaitAssertAsync(async () =>
        {
            clock.Advance(TimeSpan.FromMinutes(10));
            Assert.Equal(["claim-1", "fail-1"], await IndexedIdsAsync());
        }, RunTimeout);

        Assert.Null(await DurableWorkflows.GetStatusAsync(Sys, "pay-1"));
        Assert.True(clock.GetUtcNow() > T0.AddHours(1));
        Assert.Equal("\"charged 7\"", (await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-1", "charge", "7"), RunTimeout)).ResultJson);
        Assert.Equal(2, _effects.Count("charge"));
    }

    [Fact]
    public async Task Sweep_BeforeAWorkflowsPeriodHasPassed_PurgesNothing_AndOnceItHasPurgesIt()
    {
        var clock = new VirtualClock(T0);
        var sweeps = 0;
        // Each sweep lists the completed, then the cancelled workflows.
        Hooks.WorkflowReads = (what, status) =>
        {
            if (what == "list" && status == "cancelled")
                Interlocked.Increment(ref sweeps);
        };
        var coordinator = StartEngine(Registry(), clock: clock);
        await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("pay-1", "charge", "5"), RunTimeout);
        var rows = JournalRows.Of(Folder.Database, "pay-1").Count;

        // Up to a second before its hour is over, sweep after sweep: nothing goes.
        foreach (var step in new[] { 10, 10, 10, 10, 10, 9 })
        {
            var before = Volatile.Read(ref sweeps);
            clock.Advance(TimeSpan.FromMinutes(step) + (step == 9 ? TimeSpan.FromSeconds(59) : TimeSpan.Zero));
            // The sweep ran, and armed the timer of the next one (the only timer of the workflow clock now).
            await AwaitConditionAsync(() => Task.FromResult(Volatile.Read(ref sweeps) > before && clock.PendingTimers == 1), RunTimeout, interval: TestSupport.Polling.Interval);
            Assert.Equal(rows, JournalRows.Of(Folder.Database, "pay-1").Count);
        }

        // The next sweep, a minute later: its hour is over.
        clock.Advance(TimeSpan.FromMinutes(1));

        await AwaitConditionAsync(() => Task.FromResult(JournalRows.Of(Folder.Database, "pay-1").Count == 0), RunTimeout, interval: TestSupport.Polling.Interval);
        Assert.Empty(await IndexedIdsAsync());
    }

    [Theory]
    [InlineData("durable-actors.retention.completed = soon", "durable-actors.retention.completed must be a duration above zero (e.g. 30d) or off, not 'soon'.")]
    [InlineData("durable-actors.retention.failed = 0s", "durable-actors.retention.failed must be a duration above zero (e.g. 30d) or off, not '0s'.")]
    [InlineData("durable-actors.retention.batch = 0", "durable-actors.retention.batch must be 1 or more, not 0.")]
    public void BadRetentionSetting_IsRefusedNamingIt(string hocon, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => DurableSettings.Create(ConfigurationFactory.ParseString(hocon)));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void HostingOptions_RetentionPeriods_AreTheSettingsRead()
    {
        var options = new DurableWorkflowsOptions { Retention = new RetentionPeriods(Completed: TimeSpan.FromDays(30), Cancelled: TimeSpan.FromHours(12)) };

        var retention = DurableSettings.Create(options.ToConfig()).Retention;

        Assert.Equal((TimeSpan.FromDays(30), (TimeSpan?)null, TimeSpan.FromHours(12)), (retention.Completed!.Value, retention.Failed, retention.Cancelled!.Value));
    }

    [Fact]
    public void Retention_ByDefault_KeepsEveryWorkflow()
    {
        var retention = DurableSettings.Create(ConfigurationFactory.Empty).Retention;
        Assert.Empty(retention.Periods());
        Assert.Equal((TimeSpan.FromMinutes(1), 100), (retention.SweepInterval, retention.Batch));
    }
}
