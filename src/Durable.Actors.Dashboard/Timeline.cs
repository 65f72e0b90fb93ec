using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Dashboard;

/// <summary>One bar of the timeline: one attempt of one step.</summary>
internal sealed record TimelineBar(StepRecord Step, int Attempt, DateTimeOffset Start, DateTimeOffset End, string Kind, int ReplayedRuns, string? Error);

/// <summary>A row of the timeline: the top-level code ("main") or one branch of a parallel block (its key's scope, e.g. <c>2</c>, <c>3.1</c>).</summary>
internal sealed record TimelineLane(string Name, int[] Sequence, IReadOnlyList<TimelineBar> Bars);

/// <summary>The timeline of a workflow: every step attempt on one time axis, a row per branch.</summary>
internal sealed record Timeline(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TimelineLane> Lanes, IReadOnlyList<DateTimeOffset> RunStarts)
{
    public static Timeline Of(WorkflowDetail detail, DateTimeOffset now)
    {
        var status = detail.Status;
        var running = status.Status == WorkflowRunStatus.Running;
        var bars = new List<(int[] Scope, TimelineBar Bar)>();
        foreach (var step in status.Steps)
        {
            var sequence = StepKeys.Sequence(step.Key);
            var scope = sequence[..^1];
            foreach (var failure in step.Failures)
            {
                var crashed = WorkflowJournal.IsStale(failure.Error);
                bars.Add((scope, new TimelineBar(step, failure.Attempt, failure.StartedAt, failure.At, crashed ? "crashed" : "failed", 0, failure.Error)));
            }
            // A FAILED step's last attempt is its last failure; otherwise the last attempt is the record's own times.
            if (step.Status != StepStatus.Failed)
            {
                var end = step.EndedAt ?? (running ? now : status.EndedAt ?? now);
                var replayed = step.Status == StepStatus.Completed && step.EndedAt is { } completed
                    ? detail.RunStarts.Count(r => r > completed)
                    : 0;
                var kind = step.Status == StepStatus.Completed ? "completed" : running ? "running" : "unfinished";
                bars.Add((scope, new TimelineBar(step, step.Attempts, step.StartedAt, end, kind, replayed, null)));
            }
        }

        var from = bars.Count == 0 ? status.StartedAt : new[] { status.StartedAt, bars.Min(b => b.Bar.Start) }.Min();
        var to = new[] { running ? now : status.EndedAt ?? now, bars.Count == 0 ? from : bars.Max(b => b.Bar.End) }.Max();
        if (running && bars.Count > 0)
            to = new[] { to, bars.Max(b => b.Bar.End) }.Max();
        if (to - from < TimeSpan.FromMilliseconds(1))
            to = from + TimeSpan.FromMilliseconds(1);

        var lanes = bars
            .GroupBy(b => string.Join('.', b.Scope))
            .Select(g => new TimelineLane(g.Key.Length == 0 ? "main" : "branch " + g.Key, g.First().Scope, g.Select(b => b.Bar).ToList()))
            .OrderBy(l => l.Sequence, StepKeys.SequenceComparer)
            .ToList();
        return new Timeline(from, to, lanes, detail.RunStarts);
    }

    /// <summary>Where <paramref name="time"/> falls on the axis, from 0 to 100.</summary>
    public double Position(DateTimeOffset time) =>
        Math.Clamp((time - From).TotalMilliseconds / (To - From).TotalMilliseconds * 100, 0, 100);
}
