using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Scheduling;

/// <summary>
/// Schedules on a real SQLite file under the test kit's virtual clock: one workflow per tick, named by its instant;
/// each overlap policy; the catch-up window after a stop; pause, resume, trigger, backfill and delete; bad specs.
/// </summary>
public sealed class SchedulesSpec(ITestOutputHelper output) : EngineSpec(output)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private readonly VirtualClock _clock = new(T0);
    private readonly EffectRecorder _effects = new();

    /// <summary><c>job</c> runs one step; <c>hold</c> runs one, then waits for the signal <c>done</c>.</summary>
    private WorkflowRegistry Registry() => new WorkflowRegistry()
        .AddQueue(new QueueOptions("one-at-a-time") { Concurrency = 1 })
        .Add<string, string>("job", async (ctx, input) => await ctx.StepAsync("work", () => { _effects.Record(ctx.WorkflowId); return input; }))
        .Add<string, string>("hold", async (ctx, _) =>
        {
            await ctx.StepAsync("work", () => { _effects.Record(ctx.WorkflowId); return "x"; });
            await ctx.WaitForSignalAsync<string>("done");
            return "done";
        });

    private ScheduleClient Schedules => DurableWorkflows.Client(Sys).Schedules;

    private static string Id(string schedule, int minute) => $"{schedule}@2026-12-07T08:{minute:00}:00Z";

    private async Task<WorkflowStatus?> StatusAsync(string id) => await DurableWorkflows.GetStatusAsync(Sys, id);

    /// <summary>Moves the clock a minute on and waits until the schedule recorded that tick as fired.</summary>
    private async Task TickAsync(string scheduleId, int minute)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Polling.UntilAsync(async () => (await Schedules.GetAsync(scheduleId))!.LastTickAt == T0.AddMinutes(minute),
            $"the tick of {scheduleId} at minute {minute}", RunTimeout);
    }

    private async Task AwaitStatusAsync(string id, WorkflowRunStatus status) =>
        await Polling.UntilAsync(async () => (await StatusAsync(id))?.Status == status, $"{id} {status}", RunTimeout);

    private async Task<string[]> StartedAsync(string scheduleId) =>
        (await DurableWorkflows.ListAsync(Sys, new WorkflowQuery { IdPrefix = scheduleId + "@" })).Items.Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Cron_StartsOneWorkflowPerTick_NamedByItsInstant_WithTheScheduledInput()
    {
        StartEngine(Registry(), clock: _clock);
        var created = await Schedules.CreateAsync(new ScheduleSpec("report", "job") { Cron = "* * * * *", InputJson = "\"daily\"" });
        Assert.Equal((T0.AddMinutes(1), (DateTimeOffset?)null), (created.NextTickAt!.Value, created.LastTickAt));

        // Each tick's workflow ends before the next tick (a tick while one runs is skipped: the default policy).
        for (var minute = 1; minute <= 3; minute++)
        {
            await TickAsync("report", minute);
            await AwaitStatusAsync(Id("report", minute), WorkflowRunStatus.Completed);
        }

        Assert.Equal([Id("report", 1), Id("report", 2), Id("report", 3)], await StartedAsync("report"));
        foreach (var id in await StartedAsync("report"))
        {
            await AwaitStatusAsync(id, WorkflowRunStatus.Completed);
            Assert.Equal("\"daily\"", (await StatusAsync(id))!.ResultJson);
            Assert.Equal(1, _effects.Count(id));
        }
        var info = (await Schedules.GetAsync("report"))!;
        Assert.Equal((T0.AddMinutes(3), T0.AddMinutes(4), false), (info.LastTickAt!.Value, info.NextTickAt!.Value, info.Paused));
    }

    [Fact]
    public async Task Skip_StartsNothingWhileATickRuns()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("s", "hold") { Every = TimeSpan.FromMinutes(1) });
        await TickAsync("s", 1);
        await TickAsync("s", 2);
        Assert.Equal([Id("s", 1)], await StartedAsync("s"));

        await DurableWorkflows.Client(Sys).GetHandle<string>(Id("s", 1)).SignalAsync("done", "now");
        await AwaitStatusAsync(Id("s", 1), WorkflowRunStatus.Completed);
        await TickAsync("s", 3);

        Assert.Equal([Id("s", 1), Id("s", 3)], await StartedAsync("s"));
    }

    [Fact]
    public async Task AllowAll_StartsEachTickBesideTheRunningOnes()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("a", "hold") { Every = TimeSpan.FromMinutes(1), Overlap = ScheduleOverlap.AllowAll });
        await TickAsync("a", 1);
        await TickAsync("a", 2);

        Assert.Equal([Id("a", 1), Id("a", 2)], await StartedAsync("a"));
        await AwaitStatusAsync(Id("a", 2), WorkflowRunStatus.Running);
        Assert.Equal(WorkflowRunStatus.Running, (await StatusAsync(Id("a", 1)))!.Status);
    }

    [Fact]
    public async Task CancelOther_CancelsTheRunningTickThenStarts()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("c", "hold") { Every = TimeSpan.FromMinutes(1), Overlap = ScheduleOverlap.CancelOther });
        await TickAsync("c", 1);
        await AwaitStatusAsync(Id("c", 1), WorkflowRunStatus.Running);
        await TickAsync("c", 2);

        await AwaitStatusAsync(Id("c", 1), WorkflowRunStatus.Cancelled);
        Assert.Equal($"cancelled: schedule 'c': overlapped by {Id("c", 2)}", (await StatusAsync(Id("c", 1)))!.Error);
        Assert.Equal([Id("c", 1), Id("c", 2)], await StartedAsync("c"));
    }

    [Fact]
    public async Task ATickThroughAQueue_IsEnqueued_AndRunsWhenTheQueueAdmitsIt()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("q", "hold") { Every = TimeSpan.FromMinutes(1), Overlap = ScheduleOverlap.AllowAll, Queue = "one-at-a-time" });
        await TickAsync("q", 1);
        await AwaitStatusAsync(Id("q", 1), WorkflowRunStatus.Running);
        await TickAsync("q", 2);

        Assert.Equal(WorkflowRunStatus.Enqueued, (await StatusAsync(Id("q", 2)))!.Status);
        Assert.Equal(0, _effects.Count(Id("q", 2)));
        await DurableWorkflows.Client(Sys).GetHandle<string>(Id("q", 1)).SignalAsync("done", "now");
        await Polling.UntilAsync(() => _effects.Count(Id("q", 2)) == 1, "the second tick's step, once admitted", RunTimeout);
        var undeclared = await Assert.ThrowsAsync<ArgumentException>(() => Schedules.CreateAsync(new ScheduleSpec("x", "job") { Every = TimeSpan.FromMinutes(1), Queue = "nope" }));
        Assert.Equal("Schedule 'x': queue 'nope' is not declared on this host.", undeclared.Message);
    }

    [Fact]
    public async Task BufferOne_StartsOneTickOnceTheRunningOneEnds_AndSkipsTheRest()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("b", "hold") { Every = TimeSpan.FromMinutes(1), Overlap = ScheduleOverlap.BufferOne });
        await TickAsync("b", 1);
        await AwaitStatusAsync(Id("b", 1), WorkflowRunStatus.Running);
        await TickAsync("b", 2);
        await TickAsync("b", 3);
        Assert.Equal([Id("b", 1)], await StartedAsync("b"));

        await DurableWorkflows.Client(Sys).GetHandle<string>(Id("b", 1)).SignalAsync("done", "now");

        // The buffered tick (minute 2) starts under its own instant; minute 3 came while one waited: skipped.
        await AwaitStatusAsync(Id("b", 2), WorkflowRunStatus.Running);
        Assert.Equal([Id("b", 1), Id("b", 2)], await StartedAsync("b"));
    }

    [Fact]
    public async Task PauseResumeTriggerBackfillAndDelete()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("p", "job") { Every = TimeSpan.FromMinutes(1) });
        await Schedules.PauseAsync("p");
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal((true, (DateTimeOffset?)null), ((await Schedules.GetAsync("p"))!.Paused, (await Schedules.GetAsync("p"))!.NextTickAt));

        // Resumed at 08:02:30: the ticks of the pause are not caught up; the next is 08:03.
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Schedules.ResumeAsync("p");
        Assert.Equal(T0.AddMinutes(3), (await Schedules.GetAsync("p"))!.NextTickAt);
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Polling.UntilAsync(async () => (await Schedules.GetAsync("p"))!.LastTickAt == T0.AddMinutes(3), "the tick at 08:03", RunTimeout);

        // A trigger starts now (to the second); a backfill every tick of the range, finding those that exist.
        _clock.Advance(TimeSpan.FromSeconds(10.5));
        Assert.Equal("p@2026-12-07T08:03:10Z", await Schedules.TriggerAsync("p"));
        Assert.Equal([Id("p", 2), Id("p", 3)], await Schedules.BackfillAsync("p", T0.AddMinutes(2), T0.AddMinutes(4)));
        Assert.Equal([Id("p", 2), Id("p", 3), "p@2026-12-07T08:03:10Z"], await StartedAsync("p"));
        Assert.Equal(1, _effects.Count(Id("p", 3)));

        await Schedules.DeleteAsync("p");
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await Schedules.GetAsync("p"));
        Assert.Empty(await Schedules.ListAsync());
        Assert.Equal(3, (await StartedAsync("p")).Length);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Schedules.PauseAsync("p"));
    }

    [Fact]
    public async Task AHostStartedAfterAStop_FiresTheTicksOfTheCatchUpWindowOnly()
    {
        var (first, _) = TestSupport.Engine.Start(Folder.Database, Registry(), clock: _clock);
        await DurableWorkflows.Client(first).Schedules.CreateAsync(new ScheduleSpec("late", "job")
        {
            Every = TimeSpan.FromMinutes(1), Overlap = ScheduleOverlap.AllowAll, CatchUpWindow = TimeSpan.FromMinutes(2),
        });
        await first.Terminate();

        // No host runs from 08:00 to 08:05:30; the one that starts then fires 08:04 and 08:05 (within two minutes).
        _clock.Advance(TimeSpan.FromMinutes(5.5));
        StartEngine(Registry(), clock: _clock);

        await Polling.UntilAsync(async () => (await Schedules.GetAsync("late"))!.LastTickAt == T0.AddMinutes(5), "the catch-up", RunTimeout);
        Assert.Equal([Id("late", 4), Id("late", 5)], await StartedAsync("late"));
    }

    [Fact]
    public async Task Cron_FollowsDaylightSavingChangesInItsTimeZone()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("paris", "job") { Cron = "30 2 * * *", TimeZone = "Europe/Paris" });

        // 02:30 in Paris: 01:30Z in winter; skipped on 29 March (02:00 → 03:00), fired at 03:00 CEST; once on 25 October.
        Assert.Equal(
            ["paris@2026-03-28T01:30:00Z", "paris@2026-03-29T01:00:00Z", "paris@2026-03-30T00:30:00Z"],
            await Schedules.BackfillAsync("paris", new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(
            ["paris@2026-10-24T00:30:00Z", "paris@2026-10-25T00:30:00Z", "paris@2026-10-26T01:30:00Z"],
            await Schedules.BackfillAsync("paris", new DateTimeOffset(2026, 10, 24, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 10, 27, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("bad@id", "* * * * *", null, "UTC", "job", "null", "'bad@id' is not a schedule id")]
    [InlineData("x", "61 * * * *", null, "UTC", "job", "null", "Schedule 'x': '61 * * * *' is not a cron expression")]
    [InlineData("x", null, null, "UTC", "job", "null", "Schedule 'x' needs a cron expression or an interval, not neither.")]
    [InlineData("x", "* * * * *", 60.0, "UTC", "job", "null", "Schedule 'x' needs a cron expression or an interval, not both.")]
    [InlineData("x", null, 0.5, "UTC", "job", "null", "Schedule 'x': an interval is whole seconds, at least one, not 00:00:00.5000000.")]
    [InlineData("x", "* * * * *", null, "Mars/Olympus", "job", "null", "Schedule 'x': 'Mars/Olympus' is not a time zone")]
    [InlineData("x", "* * * * *", null, "UTC", "nope", "null", "Schedule 'x': 'nope' is not a registered workflow type (known: hold, job).")]
    [InlineData("x", "* * * * *", null, "UTC", "job", "{", "Schedule 'x': its input is not JSON")]
    public async Task BadSpec_IsRefusedNamingWhatIsWrong_AndNothingIsCreated(
        string id, string? cron, double? everySeconds, string zone, string type, string input, string expected)
    {
        StartEngine(Registry(), clock: _clock);
        var spec = new ScheduleSpec(id, type) { Cron = cron, Every = everySeconds is { } s ? TimeSpan.FromSeconds(s) : null, TimeZone = zone, InputJson = input };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Schedules.CreateAsync(spec));

        Assert.StartsWith(expected, e.Message);
        Assert.Empty(await Schedules.ListAsync());
    }

    [Fact]
    public async Task ASecondScheduleOfAnId_IsRefused_AndANegativeCatchUpWindowToo()
    {
        StartEngine(Registry(), clock: _clock);
        await Schedules.CreateAsync(new ScheduleSpec("once", "job") { Cron = "0 * * * *" });

        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => Schedules.CreateAsync(new ScheduleSpec("once", "job") { Cron = "5 * * * *" }));
        var negative = await Assert.ThrowsAsync<ArgumentException>(() =>
            Schedules.CreateAsync(new ScheduleSpec("neg", "job") { Cron = "0 * * * *", CatchUpWindow = TimeSpan.FromMinutes(-1) }));

        Assert.Equal("Schedule 'once' exists; delete it first to replace it.", twice.Message);
        Assert.StartsWith("Schedule 'neg' has a negative catch-up window", negative.Message);
        Assert.Equal("0 * * * *", Assert.Single(await Schedules.ListAsync()).Spec.Cron);
    }
}
