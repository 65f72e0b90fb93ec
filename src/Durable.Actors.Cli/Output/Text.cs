using System.Globalization;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Output;

/// <summary>What the CLI prints for people: statuses, times, tables, and the lines of each outcome.</summary>
internal static class Text
{
    public static string WorkflowStatusName(WorkflowRunStatus status) => status switch
    {
        WorkflowRunStatus.Running => "RUNNING",
        WorkflowRunStatus.Completed => "COMPLETED",
        WorkflowRunStatus.Cancelled => "CANCELLED",
        WorkflowRunStatus.Paused => "PAUSED",
        WorkflowRunStatus.Enqueued => "ENQUEUED",
        _ => "FAILED",
    };

    /// <summary>A status as <c>--status</c> takes it: its name in lower case (<c>running</c>, <c>completed</c>, …).</summary>
    public static string StatusOption(WorkflowRunStatus status) => WorkflowStatusName(status).ToLowerInvariant();

    /// <summary>The status a <c>--status</c> value names, in any case; false for none.</summary>
    public static bool TryParseStatusOption(string text, out WorkflowRunStatus status)
    {
        foreach (var candidate in Enum.GetValues<WorkflowRunStatus>())
        {
            if (string.Equals(StatusOption(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }

    public static string StepStatusName(StepStatus status) => status switch
    {
        StepStatus.InProgress => "IN_PROGRESS",
        StepStatus.Completed => "COMPLETED",
        _ => "FAILED",
    };

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>When a failed attempt ended: unknown (null) for a zombie left by a crash.</summary>
    public static DateTimeOffset? AttemptEnd(StepFailure f) => f.IsZombie ? null : f.At;

    /// <summary>Columns padded to their widest cell; the last column is not padded.</summary>
    public static void PrintTable(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))));
    }

    /// <summary>The one line of <c>status</c>, and the first of <c>history</c>.</summary>
    public static string StatusLine(WorkflowStatus s) =>
        $"workflow {s.WorkflowId} ({s.WorkflowType}) {WorkflowStatusName(s.Status)}, {s.Steps.Count} steps, started {Time(s.StartedAt)}" +
        (s.EndedAt is { } end ? $", ended {Time(end)}" : "") +
        (s.Status == WorkflowRunStatus.Completed ? $": {s.ResultJson}" : s.Status is WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled ? $": {s.Error}" : "") +
        (s.WaitingFor is { } waiting ? $"; {waiting}" : "") +
        (s.Deadline is { } deadline && s.Status.IsActive() ? $"; times out at {Time(deadline)}" : "") +
        (s.CustomStatusJson is { } custom ? $"; custom status {custom}" : "") +
        (s.Attributes.Count > 0 ? "; attributes " + string.Join(" ", s.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => AttributeFilter.Equal(a.Key, a.Value).ToString())) : "") +
        (s.ForkedFrom is { } source ? $"; forked from {source} " + (s.ForkedFromKey is { } key ? $"at {key}" : "from the top") : "");

    /// <summary>
    /// <c>history</c>: the status line, then the steps (with their failed attempts) and the durable waits between them
    /// (timers, signal waits, child waits) in key order, so that every key shows.
    /// </summary>
    public static void PrintHistory(WorkflowStatus status, IReadOnlyList<WaitRecord> waits)
    {
        Console.WriteLine(StatusLine(status));
        var stepRows = status.Steps.Select(s => (Key: s.Key, Rows: s.Failures
            .Where(f => s.Status != StepStatus.Failed || f.Attempt != s.Attempts)
            .Select(f => new[] { "", "", $"attempt {f.Attempt}", "", Time(f.StartedAt), AttemptEnd(f) is { } end ? Time(end) : "-", f.Error })
            .Prepend(
            [
                s.Key, s.StepId, StepStatusName(s.Status), s.Attempts.ToString(CultureInfo.InvariantCulture),
                Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-", s.ResultJson ?? s.Error ?? Heartbeat(s) ?? "-",
            ])));
        var waitRows = waits.Select(w => (Key: w.Key, Rows: (IEnumerable<string[]>)
        [
            [w.Key, WaitName(w), WaitStatusName(w), "-", Time(w.StartedAt), w.EndedAt is { } end ? Time(end) : "-", WaitOutcome(w)],
        ]));
        var rows = stepRows.Concat(waitRows)
            .Select(r => (Sequence: StepKeys.Sequence(r.Key), r.Rows))
            .OrderBy(r => r.Sequence, StepKeys.SequenceComparer)
            .SelectMany(r => r.Rows);
        PrintTable(["KEY", "STEP", "STATUS", "ATTEMPTS", "STARTED", "ENDED", "RESULT / ERROR"], rows);
    }

    /// <summary>A running step's last heartbeat and details (<c>heartbeat 10:04:05.120: {"file":17}</c>); null when it sent none.</summary>
    private static string? Heartbeat(StepRecord s) =>
        s.LastHeartbeatAt is { } at ? $"heartbeat {Time(at)}" + (s.HeartbeatDetailsJson is { } details ? $": {details}" : "") : null;

    /// <summary>WAITING until it ends; then FIRED (a timer), RECEIVED (a signal), ENDED (a child), TIMED_OUT or CANCELLED.</summary>
    public static string WaitStatusName(WaitRecord w) => w.Status switch
    {
        WaitStatus.Waiting => "WAITING",
        WaitStatus.Cancelled => "CANCELLED",
        WaitStatus.Fired => "FIRED",
        WaitStatus.TimedOut => "TIMED_OUT",
        WaitStatus.Ended => "ENDED",
        _ => "RECEIVED",
    };

    /// <summary>A wait's row name: <c>timer</c>, <c>signal 'name'</c> or <c>child 'id'</c>.</summary>
    private static string WaitName(WaitRecord w) => w.Kind switch
    {
        WaitKind.Timer => "timer",
        WaitKind.Child => $"child '{w.Name}'",
        _ => $"signal '{w.Name}'",
    };

    /// <summary>A wait's result column: what it received, or until when it waits.</summary>
    private static string WaitOutcome(WaitRecord w) =>
        w.Status is WaitStatus.Received or WaitStatus.Ended ? w.PayloadJson ?? "-"
        : w.DueAt is { } due ? $"until {Time(due)}"
        : "-";

    /// <summary><c>list</c>'s table, newest first as the page comes.</summary>
    public static void PrintPage(WorkflowPage page) =>
        PrintTable(["WORKFLOW", "TYPE", "STATUS", "STEPS", "STARTED", "ENDED"], page.Items.Select(s => new[]
        {
            s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.StepCount.ToString(CultureInfo.InvariantCulture),
            Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-",
        }));

    /// <summary>
    /// The line of a run's outcome (completed, failed, waiting, cancelled) and the exit code it stands for; null for a
    /// reply that is no outcome.
    /// </summary>
    public static (string Line, int ExitCode)? Outcome(object reply) => reply switch
    {
        WorkflowCompleted completed => ($"workflow {completed.WorkflowId} completed: {completed.ResultJson}", ExitCodes.Completed),
        WorkflowFailed failed => ($"workflow {failed.WorkflowId} failed: {failed.Error}", ExitCodes.Failed),
        WorkflowWaiting waiting => ($"{waiting.WorkflowId} waiting: {waiting.WaitingFor}", ExitCodes.Waiting),
        WorkflowCancelled cancelled => ($"workflow {cancelled.WorkflowId} cancelled" + (cancelled.Reason is { } reason ? $": {reason}" : ""), ExitCodes.Cancelled),
        _ => null,
    };

    /// <summary><c>check</c>'s report: a verdict per workflow, then the divergences and patches it found.</summary>
    public static void PrintCheck(ReplayCheckReport report, bool all)
    {
        var which = all ? "workflows" : "unfinished workflows";
        if (report.Workflows.Count == 0)
        {
            Console.WriteLine($"no {which} to check in {report.Database}{(all ? "" : " (--all checks finished ones too)")}");
            return;
        }
        var compatible = report.Workflows.Count(w => w.IsCompatible);
        Console.WriteLine($"checked {report.Workflows.Count} {which} against the current code: {compatible} compatible, {report.Workflows.Count - compatible} not");
        foreach (var w in report.Workflows)
        {
            var type = w.WorkflowType.Length == 0 ? "" : $" ({w.WorkflowType}, {WorkflowStatusName(w.Status)})";
            var verdict = w.Verdict switch
            {
                ReplayVerdict.Compatible => "compatible",
                ReplayVerdict.Incompatible => "INCOMPATIBLE",
                ReplayVerdict.TypeNotRegistered => "TYPE NOT REGISTERED",
                ReplayVerdict.InputUnreadable => "INPUT UNREADABLE",
                _ => "JOURNAL UNREADABLE",
            };
            Console.WriteLine($"{w.WorkflowId}{type} {verdict}: {w.Detail}");
            foreach (var note in w.Notes)
                Console.WriteLine($"  note: {note}");
        }
        if (report.Divergences.Count > 0)
        {
            Console.WriteLine("divergences:");
            foreach (var group in report.Divergences)
                Console.WriteLine($"  {group.WorkflowIds.Count} × {group.Divergence}: {string.Join(", ", group.WorkflowIds)}");
        }
        if (report.Patches.Count > 0)
        {
            Console.WriteLine("patches:");
            foreach (var patch in report.Patches)
                Console.WriteLine(patch.OldPath.Count == 0
                    ? $"  {patch.PatchId}: no unfinished workflow needs the old path ({patch.NewPath.Count} took the new one): the old branch can be deleted"
                    : $"  {patch.PatchId}: {patch.OldPath.Count} unfinished workflows still need the old path ({string.Join(", ", patch.OldPath)}); {patch.NewPath.Count} took the new one");
        }
    }
}
