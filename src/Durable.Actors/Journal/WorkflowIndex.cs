namespace Durable.Actors.Journal;

/// <summary>
/// One workflow's row of the workflow index: what <c>list</c> shows, kept beside the journal so that listing never
/// reads a workflow's events. <see cref="Status"/> is text (<see cref="WorkflowIndex.StatusText"/>) so that statuses
/// added later need no change of the stored format. <c>WakeAt</c>: when the wait of the workflow's top-level code is
/// due (a timer, a signal wait's timeout; <see cref="WorkflowIndex.NoDueTime"/> for a wait only a signal or a child
/// ends), null when it does not wait: a host starting on the database resumes the running workflows whose
/// <c>WakeAt</c> is null and wakes the others when due.
/// </summary>
internal sealed record WorkflowIndexRow(
    string WorkflowId,
    string WorkflowType,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? EndedAt,
    string? Error,
    int StepCount,
    int CompletedSteps,
    int FailedAttempts,
    DateTimeOffset? WakeAt = null);

/// <summary>
/// What one journal event changes in its workflow's index row, expressed so that the journal's writer can apply it
/// with SQL without reading the row first (counts are increments, the status and its end are set together).
/// </summary>
/// <param name="WorkflowId">The workflow whose row changes.</param>
/// <param name="At">The event's time: the row's <c>updated_at</c>.</param>
internal sealed record WorkflowIndexChange(string WorkflowId, DateTimeOffset At)
{
    /// <summary>Set by a workflow's first event: the row is created from it.</summary>
    public WorkflowStarted? Started { get; init; }

    /// <summary>The new status, with <see cref="EndedAt"/>; null leaves both as they are.</summary>
    public string? Status { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>
    /// Whether <see cref="Status"/> only restates what a step's start implies (the workflow runs). A run begins only on
    /// a running workflow, or after <see cref="RunResumed"/> set it running again, so the journal's writer need not
    /// write it with each step; a rebuild from journals of any age folds it (<see cref="ApplyTo"/>).
    /// </summary>
    public bool StatusImplied { get; init; }

    /// <summary>Whether <see cref="Error"/> replaces the row's error (null clears it).</summary>
    public bool SetsError { get; init; }

    public string? Error { get; init; }

    /// <summary>Steps started for the first time (attempt 1): the workflow's step count grows by this.</summary>
    public int NewSteps { get; init; }

    public int CompletedSteps { get; init; }

    public int FailedAttempts { get; init; }

    /// <summary>Whether <see cref="WakeAt"/> replaces the row's <c>wake_at</c> (null clears it).</summary>
    public bool SetsWakeAt { get; init; }

    public DateTimeOffset? WakeAt { get; init; }

    /// <summary>
    /// Custom attributes set (<see cref="IWorkflowContext.SetAttributesAsync"/>), in the order set: each name's new
    /// value, or null for one removed; null when the event sets none. Kept in <c>workflow_attributes</c>, not in the row.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, AttributeValue?>>? Attributes { get; init; }

    /// <summary>The row after this change; <paramref name="row"/> is the row before it (null before the workflow's first event).</summary>
    public WorkflowIndexRow? ApplyTo(WorkflowIndexRow? row)
    {
        if (Started is { } s)
            return new WorkflowIndexRow(WorkflowId, s.WorkflowType, WorkflowIndex.StatusText(WorkflowRunStatus.Running), s.At, s.At, null, null, 0, 0, 0);
        if (row is null)
            return null;
        row = row with
        {
            UpdatedAt = At,
            StepCount = row.StepCount + NewSteps,
            CompletedSteps = row.CompletedSteps + CompletedSteps,
            FailedAttempts = row.FailedAttempts + FailedAttempts,
        };
        // A paused workflow stays paused through what a step's start implies (a running step's completion, a recorded
        // value, written while it is paused): only its end or unpausing changes it.
        if (Status is not null && !(StatusImplied && (row.Status == WorkflowIndex.StatusText(WorkflowRunStatus.Paused)
                || row.Status == WorkflowIndex.StatusText(WorkflowRunStatus.Enqueued))))
            row = row with { Status = Status, EndedAt = EndedAt };
        if (SetsError)
            row = row with { Error = Error };
        if (SetsWakeAt)
            row = row with { WakeAt = WakeAt };
        return row;
    }
}

/// <summary>
/// The fold of the workflow index: from one journal event, the change to its workflow's row. The one place that knows
/// how events map to index columns: the journal's writer applies these changes in the transaction that writes the
/// events (so the index is never out of date, even after a crash), and a rebuild folds every stored event through the
/// same code. It follows <see cref="WorkflowJournal"/>: the status and error it gives are those <c>status</c> shows.
/// A new event type adds a case here (a cancellation, a timer that sets <see cref="WorkflowIndexRow.WakeAt"/>).
/// </summary>
/// <remarks>
/// Counts are cheap increments: <c>step_count</c> (distinct steps: first attempts started), <c>completed_steps</c>
/// and <c>failed_attempts</c> (every failed attempt, retries and zombies included: a failed step that completes later
/// stays counted, as history shows it).
/// </remarks>
internal static class WorkflowIndex
{
    /// <summary>The longest error the index keeps; a longer one is cut, and <c>status</c> shows it whole.</summary>
    public const int MaxErrorLength = 2000;

    /// <summary>The stored text of a status: its name in lower case (<c>running</c>, <c>completed</c>, <c>failed</c>, <c>cancelled</c>, <c>paused</c>, <c>enqueued</c>).</summary>
    public static string StatusText(WorkflowRunStatus status) => status switch
    {
        WorkflowRunStatus.Running => "running",
        WorkflowRunStatus.Completed => "completed",
        WorkflowRunStatus.Failed => "failed",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <summary>The status of a stored text; false for a text no status of this version has.</summary>
    public static bool TryParseStatus(string text, out WorkflowRunStatus status)
    {
        foreach (var candidate in Enum.GetValues<WorkflowRunStatus>())
        {
            if (string.Equals(StatusText(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }

    /// <summary>The error as the index keeps it: whole up to <see cref="MaxErrorLength"/> characters, cut with an ellipsis beyond.</summary>
    public static string Summarize(string error) => error.Length <= MaxErrorLength ? error : error[..(MaxErrorLength - 1)] + "…";

    /// <summary>The change <paramref name="e"/> makes to workflow <paramref name="workflowId"/>'s row; null for none.</summary>
    public static WorkflowIndexChange? Change(string workflowId, IJournalEvent e) => e switch
    {
        WorkflowStarted s => new WorkflowIndexChange(workflowId, s.At) { Started = s },
        BranchesReserved r => new WorkflowIndexChange(workflowId, r.At),
        // A run that starts a step is running, whatever the previous run ended with (as WorkflowJournal has it).
        StepStarted s => Running(workflowId, s.At) with { NewSteps = s.Attempt == 1 ? 1 : 0, StatusImplied = true },
        StepCompleted c => new WorkflowIndexChange(workflowId, c.At) { CompletedSteps = 1, Attributes = AttributeChanges.Recorded(c)?.Changes },
        StepsCompletedThenStarted a => Running(workflowId, a.Started.At) with
        {
            StatusImplied = true,
            NewSteps = a.Started.Attempt == 1 ? 1 : 0,
            CompletedSteps = a.Completed.Count,
            Attributes = AttributesOf(a.Completed),
        },
        StepFailed f => new WorkflowIndexChange(workflowId, f.At) { FailedAttempts = 1 },
        RunResumed r => Running(workflowId, r.At),
        RunCompleted c => new WorkflowIndexChange(workflowId, c.At)
        {
            Status = StatusText(WorkflowRunStatus.Completed), EndedAt = c.At, SetsError = true, Error = null,
        },
        RunFailed f => new WorkflowIndexChange(workflowId, f.At)
        {
            Status = StatusText(WorkflowRunStatus.Failed), EndedAt = f.At, SetsError = true, Error = Summarize(f.Error),
        },
        RunCancelled c => new WorkflowIndexChange(workflowId, c.At)
        {
            Status = StatusText(WorkflowRunStatus.Cancelled), EndedAt = c.At, SetsError = true,
            Error = c.Reason is null ? "cancelled" : Summarize($"cancelled: {c.Reason}"), SetsWakeAt = true,
        },
        // Only waits of the top-level code: while it waits nothing else of the workflow runs (a wait in a branch
        // leaves the workflow to be resumed at start, as any running one).
        TimerStarted t when IsTopLevel(t.Key) => new WorkflowIndexChange(workflowId, t.At) { SetsWakeAt = true, WakeAt = Earlier(t.WakeAt, t.Deadline) },
        // A wait for a child is resumed at start like a running workflow: the child's end may have been lost in a crash
        // (the child's end is durable, the message to its parent was not), and the resumed wait asks the child again.
        SignalWaitStarted w when IsTopLevel(w.Key) => new WorkflowIndexChange(workflowId, w.At)
        {
            SetsWakeAt = true,
            WakeAt = ChildSignals.ChildOf(w.Name) is not null ? null : Earlier(w.TimeoutAt ?? NoDueTime, w.Deadline),
        },
        // The wait ended, or something will wake the workflow at once: a host starting now must resume it.
        TimerFired t => new WorkflowIndexChange(workflowId, t.At) { SetsWakeAt = true },
        SignalWaitEnded w => new WorkflowIndexChange(workflowId, w.At) { SetsWakeAt = true },
        WaitCancelled c => new WorkflowIndexChange(workflowId, c.At) { SetsWakeAt = true },
        SignalReceived s => new WorkflowIndexChange(workflowId, s.At) { SetsWakeAt = true },
        CancelRequested c => new WorkflowIndexChange(workflowId, c.At) { SetsWakeAt = true },
        // Paused: woken by time only at its deadline (to be cancelled); unpaused: a host starting now resumes it.
        RunPaused p => new WorkflowIndexChange(workflowId, p.At)
        {
            Status = StatusText(p.Queue is null ? WorkflowRunStatus.Paused : WorkflowRunStatus.Enqueued), EndedAt = null, SetsWakeAt = true,
            WakeAt = p.Deadline ?? NoDueTime,
        },
        RunUnpaused u => Running(workflowId, u.At) with { SetsWakeAt = true },
        _ => null,
    };

    /// <summary>The attributes set by the completions <paramref name="completed"/>, in order; null when they set none.</summary>
    private static List<KeyValuePair<string, AttributeValue?>>? AttributesOf(IReadOnlyList<StepCompleted> completed)
    {
        // By index: a step's start carries completions on the hot path, and an interface's enumerator is an allocation.
        List<KeyValuePair<string, AttributeValue?>>? changes = null;
        for (var i = 0; i < completed.Count; i++)
        {
            if (AttributeChanges.Recorded(completed[i]) is { } set)
                (changes ??= []).AddRange(set.Changes);
        }
        return changes;
    }

    /// <summary>
    /// Folds the attributes an event sets into <paramref name="attributes"/> (a workflow's, in the order of its events):
    /// a rebuild of <c>workflow_attributes</c>, and listing a journal that keeps no index.
    /// </summary>
    public static void ApplyAttributes(Dictionary<string, AttributeValue> attributes, IJournalEvent e)
    {
        switch (e)
        {
            case WorkflowStarted:
                attributes.Clear();
                break;
            case StepCompleted c:
                AttributeChanges.Recorded(c)?.ApplyTo(attributes);
                break;
            case StepsCompletedThenStarted a:
                foreach (var c in a.Completed)
                    AttributeChanges.Recorded(c)?.ApplyTo(attributes);
                break;
        }
    }

    /// <summary>The <c>wake_at</c> of a workflow whose wait has no due time (a signal without timeout, a child): never woken by time.</summary>
    public static DateTimeOffset NoDueTime { get; } = DateTimeOffset.MaxValue;

    /// <summary>A wait's due time, or the workflow's deadline when that comes first.</summary>
    private static DateTimeOffset Earlier(DateTimeOffset due, DateTimeOffset? deadline) => deadline is { } d && d < due ? d : due;

    private static bool IsTopLevel(string key) => key.IndexOf('.', key.LastIndexOf(':') + 1) < 0;

    /// <summary>The row after <paramref name="e"/>: the fold, in memory (rebuilds and journals without the index use it).</summary>
    public static WorkflowIndexRow? Apply(WorkflowIndexRow? row, string workflowId, IJournalEvent e) =>
        Change(workflowId, e) is { } change ? change.ApplyTo(row) : row;

    private static WorkflowIndexChange Running(string workflowId, DateTimeOffset at) =>
        new(workflowId, at) { Status = StatusText(WorkflowRunStatus.Running), EndedAt = null };
}
