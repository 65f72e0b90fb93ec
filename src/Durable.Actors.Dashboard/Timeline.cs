namespace Durable.Actors.Dashboard;

/// <summary>One bar of the timeline: one attempt of one step.</summary>
internal sealed record TimelineBar(StepRecord Step, int Attempt, DateTimeOffset Start, DateTimeOffset End, string Kind, int ReplayedRuns, string? Error);

/// <summary>A row of the timeline: the top-level code ("main") or one branch of a parallel block (its key's scope, e.g. <c>2</c>, <c>3.1</c>).</summary>
internal sealed record TimelineLane(string Name, int[] Sequence, IReadOnlyList<TimelineBar> Bars);

/// <summary>A stretch of the time axis: real time shown at its scale, or a long idle gap shown shortened (<see cref="Shortened"/>).</summary>
internal sealed record TimelineSegment(DateTimeOffset From, DateTimeOffset To, double DisplayFrom, double DisplayWidth, bool Shortened);

/// <summary>
/// The timeline of a workflow: every step attempt on one time axis, a row per branch. Idle gaps much longer than the
/// activity around them (a wait of days, a resume the next morning) are shortened and marked, so that the steps stay
/// readable; everything else is at one scale.
/// </summary>
internal sealed record Timeline(
    DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TimelineLane> Lanes, IReadOnlyList<DateTimeOffset> RunStarts, IReadOnlyList<TimelineSegment> Segments)
{
    public static Timeline Of(WorkflowDetail detail, DateTimeOffset now)
    {
        var status = detail.Status;
        var running = status.Status == WorkflowRunStatus.Running;
        var runStarts = KnownRunStarts(detail);
        var bars = new List<(int[] Scope, TimelineBar Bar)>();
        foreach (var step in status.Steps)
        {
            var sequence = StepKeys.Sequence(step.Key);
            var scope = sequence[..^1];
            foreach (var failure in step.Failures)
            {
                var crashed = failure.IsZombie;
                bars.Add((scope, new TimelineBar(step, failure.Attempt, failure.StartedAt, failure.At, crashed ? "crashed" : "failed", 0, failure.Error)));
            }
            // A FAILED step's last attempt is its last failure; otherwise the last attempt is the record's own times.
            if (step.Status != StepStatus.Failed)
            {
                var end = step.EndedAt ?? (running ? now : status.EndedAt ?? now);
                var replayed = step.Status == StepStatus.Completed && step.EndedAt is { } completed
                    ? runStarts.Count(r => r > completed)
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
        var spans = bars.Select(b => (b.Bar.Start, b.Bar.End)).Concat(runStarts.Select(r => (r, r))).Append((from, from)).Append((to, to));
        return new Timeline(from, to, lanes, runStarts, Axis(spans));
    }

    /// <summary>
    /// When each run started, as far as the journal tells: the start and each resume of a failed workflow are recorded;
    /// a run that carried on a workflow left running by a crash records nothing of its own, but it marks the attempts
    /// the crash cut short as stale when it reaches them, so such a run is placed there (one per second at most: the
    /// zombies of one crash are found together). A run woken from a wait leaves no trace and is not shown.
    /// </summary>
    private static List<DateTimeOffset> KnownRunStarts(WorkflowDetail detail)
    {
        var runs = detail.RunStarts.ToList();
        var found = detail.Status.Steps.SelectMany(s => s.Failures).Where(f => f.IsZombie).Select(f => f.At).Order();
        foreach (var at in found)
        {
            if (!runs.Any(r => Math.Abs((r - at).TotalSeconds) < 1))
                runs.Add(at);
        }
        runs.Sort();
        return runs;
    }

    /// <summary>The axis: busy stretches (overlapping spans merged) at their real length, and the gaps between them, shortened when long.</summary>
    private static List<TimelineSegment> Axis(IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> spans)
    {
        var merged = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var (start, end) in spans.OrderBy(s => s.Start))
        {
            if (merged.Count > 0 && start <= merged[^1].End)
                merged[^1] = (merged[^1].Start, end > merged[^1].End ? end : merged[^1].End);
            else
                merged.Add((start, end));
        }
        var busy = merged.Sum(m => (m.End - m.Start).TotalMilliseconds);
        var total = (merged[^1].End - merged[0].Start).TotalMilliseconds;
        // A gap is shortened to a tenth of the busy time when it is more than a third of the whole; then the steps
        // keep most of the width whatever the wait between them.
        var shortened = Math.Max(busy / 10, 0.5);
        var segments = new List<TimelineSegment>();
        var at = 0.0;
        for (var i = 0; i < merged.Count; i++)
        {
            var (start, end) = merged[i];
            var width = (end - start).TotalMilliseconds;
            segments.Add(new TimelineSegment(start, end, at, width, false));
            at += width;
            if (i + 1 == merged.Count)
                break;
            var gap = (merged[i + 1].Start - end).TotalMilliseconds;
            var shorten = gap > total / 3 && gap > shortened * 2;
            segments.Add(new TimelineSegment(end, merged[i + 1].Start, at, shorten ? shortened : gap, shorten));
            at += shorten ? shortened : gap;
        }
        return segments;
    }

    private double DisplayTotal => Math.Max(Segments[^1].DisplayFrom + Segments[^1].DisplayWidth, 0.001);

    /// <summary>Where <paramref name="time"/> falls on the axis, from 0 to 100.</summary>
    public double Position(DateTimeOffset time)
    {
        var segment = Segments.LastOrDefault(s => s.From <= time) ?? Segments[0];
        var length = (segment.To - segment.From).TotalMilliseconds;
        var into = length <= 0 ? 0 : Math.Clamp((time - segment.From).TotalMilliseconds / length, 0, 1) * segment.DisplayWidth;
        return Math.Clamp((segment.DisplayFrom + into) / DisplayTotal * 100, 0, 100);
    }

    /// <summary>Where a display position (0 to 100) falls in time: the inverse of <see cref="Position"/> outside shortened gaps.</summary>
    public DateTimeOffset TimeAt(double position)
    {
        var display = position / 100 * DisplayTotal;
        var segment = Segments.LastOrDefault(s => s.DisplayFrom <= display) ?? Segments[0];
        var fraction = segment.DisplayWidth <= 0 ? 0 : Math.Clamp((display - segment.DisplayFrom) / segment.DisplayWidth, 0, 1);
        return segment.From + (segment.To - segment.From) * fraction;
    }
}
