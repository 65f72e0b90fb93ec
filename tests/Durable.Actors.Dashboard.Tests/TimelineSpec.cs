using Durable.Actors.Inspection;
using Xunit;

namespace Durable.Actors.Dashboard.Tests;

public sealed class TimelineSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Of_AResumeDaysAfterTheFailure_ShortensTheIdleGapSoThatEveryAttemptStaysVisible()
    {
        var resumedAt = T0.AddDays(3);
        var detail = new WorkflowDetail(
            new WorkflowStatus("order-9", "charge", WorkflowRunStatus.Completed, T0, resumedAt.AddMilliseconds(40), "\"ok\"", null,
            [
                new StepRecord("order-9:1", "reserve", StepStatus.Completed, 1, T0.AddMilliseconds(1), T0.AddMilliseconds(11), "\"r\"", null, []),
                new StepRecord("order-9:2", "charge", StepStatus.Completed, 2, resumedAt.AddMilliseconds(5), resumedAt.AddMilliseconds(35), "\"c\"", null,
                    [new StepFailure(1, T0.AddMilliseconds(12), T0.AddMilliseconds(30), "declined")]),
            ]),
            "\"4242\"",
            [T0, resumedAt],
            null);

        var timeline = Timeline.Of(detail, resumedAt.AddDays(1));

        var gap = Assert.Single(timeline.Segments, s => s.Shortened);
        Assert.Equal(T0.AddMilliseconds(30), gap.From);
        Assert.Equal(resumedAt, gap.To);
        var bars = Assert.Single(timeline.Lanes).Bars;
        Assert.Equal(["reserve", "charge", "charge"], bars.Select(b => b.Step.StepId));
        Assert.Equal(["completed", "failed", "completed"], bars.Select(b => b.Kind));
        Assert.Equal(1, bars[0].ReplayedRuns);
        foreach (var bar in bars)
            Assert.True(timeline.Position(bar.End) - timeline.Position(bar.Start) > 5, $"{bar.Step.StepId} #{bar.Attempt} is wide enough to read");
        Assert.True(timeline.Position(bars[0].End) <= timeline.Position(bars[1].Start), "the axis keeps the order of time");
        Assert.True(timeline.Position(bars[1].End) < timeline.Position(bars[2].Start));
    }

    [Fact]
    public void Of_ARunThatCarriedOnAfterACrash_IsPlacedWhereItFoundTheCutShortAttemptsAndMarksTheStepsBeforeAsReplayed()
    {
        var foundAt = T0.AddSeconds(5);
        const string stale = "stale: IN_PROGRESS for 4.9s, left by a process that has ended";
        var detail = new WorkflowDetail(
            new WorkflowStatus("wf-2", "onboarding", WorkflowRunStatus.Completed, T0, foundAt.AddMilliseconds(200), "1", null,
            [
                new StepRecord("wf-2:1", "create", StepStatus.Completed, 1, T0, T0.AddMilliseconds(10), "1", null, []),
                new StepRecord("wf-2:2.1", "laptop", StepStatus.Completed, 2, foundAt, foundAt.AddMilliseconds(100), "1", null,
                    [new StepFailure(1, T0.AddMilliseconds(11), foundAt, stale)]),
                new StepRecord("wf-2:3.1", "access", StepStatus.Completed, 2, foundAt.AddMilliseconds(2), foundAt.AddMilliseconds(100), "1", null,
                    [new StepFailure(1, T0.AddMilliseconds(11), foundAt.AddMilliseconds(2), stale)]),
            ]),
            "null",
            [T0],
            null);

        var timeline = Timeline.Of(detail, foundAt.AddSeconds(1));

        Assert.Equal([T0, foundAt], timeline.RunStarts);
        Assert.Equal(1, timeline.Lanes[0].Bars.Single().ReplayedRuns);
        Assert.Equal(["crashed", "completed"], timeline.Lanes[1].Bars.Select(b => b.Kind));
        Assert.Equal(0, timeline.Lanes[1].Bars[1].ReplayedRuns);
    }

    [Fact]
    public void Of_ParallelBranches_PutsEachOnItsOwnLaneAfterTheMainOne()
    {
        var detail = new WorkflowDetail(
            new WorkflowStatus("wf-1", "onboarding", WorkflowRunStatus.Running, T0, null, null, null,
            [
                new StepRecord("wf-1:1", "create", StepStatus.Completed, 1, T0, T0.AddMilliseconds(10), "1", null, []),
                new StepRecord("wf-1:2.1", "laptop", StepStatus.Completed, 1, T0.AddMilliseconds(11), T0.AddMilliseconds(100), "1", null, []),
                new StepRecord("wf-1:3.1", "access", StepStatus.InProgress, 1, T0.AddMilliseconds(11), null, null, null, []),
                new StepRecord("wf-1:10", "later", StepStatus.InProgress, 1, T0.AddMilliseconds(120), null, null, null, []),
            ]),
            "null",
            [T0],
            null);

        var timeline = Timeline.Of(detail, T0.AddMilliseconds(150));

        Assert.Equal(["main", "branch 2", "branch 3"], timeline.Lanes.Select(l => l.Name));
        Assert.Equal(["create", "later"], timeline.Lanes[0].Bars.Select(b => b.Step.StepId));
        Assert.Equal("running", timeline.Lanes[2].Bars.Single().Kind);
        Assert.Equal(T0.AddMilliseconds(150), timeline.Lanes[2].Bars.Single().End);
    }
}
