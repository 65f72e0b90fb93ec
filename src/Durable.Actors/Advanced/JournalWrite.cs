using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;

namespace Durable.Actors.Advanced;

/// <summary>One write of the engine's journal: the records one workflow's actor persists at once, committed together.</summary>
public sealed class JournalWrite
{
    private readonly IReadOnlyList<JournalRow> _rows;
    private IReadOnlyList<(string WorkflowId, IJournalEvent Event)>? _events;
    private IReadOnlyList<JournalChange>? _changes;

    internal JournalWrite(IReadOnlyList<JournalRow> rows) => _rows = rows;

    /// <summary>What the write records of workflows, in order (read from its rows when first asked).</summary>
    public IReadOnlyList<JournalChange> Changes => _changes ??= [.. Events.SelectMany(e => JournalChange.Of(e.WorkflowId, e.Event))];

    private IReadOnlyList<(string WorkflowId, IJournalEvent Event)> Events => _events ??=
        [.. _rows.Where(r => r.Identifier == JournalEventSerializer.Id && r.PersistenceId.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
            .Select(r => (r.PersistenceId[WorkflowActor.PersistenceIdPrefix.Length..], JournalEventSerializer.Read(r.Message, r.Manifest)))];

    /// <summary>The workflows as <paramref name="committed"/> (writes in the order they were committed) leave them, by id.</summary>
    public static IReadOnlyList<WorkflowStatus> Fold(IEnumerable<JournalWrite> committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        var journals = new Dictionary<string, WorkflowJournal>(StringComparer.Ordinal);
        foreach (var (workflowId, e) in committed.SelectMany(w => w.Events))
        {
            if (!journals.TryGetValue(workflowId, out var journal))
                journals[workflowId] = journal = new WorkflowJournal();
            journal.Apply(e);
        }
        return [.. journals.OrderBy(j => j.Key, StringComparer.Ordinal).Select(j => j.Value.ToStatus(j.Key))];
    }

    /// <summary>
    /// What the write records, as a user reads it: <c>step wf:1 completed with step wf:2 'charge' started (IN_PROGRESS)</c>.
    /// </summary>
    public override string ToString() => string.Join("; ", Events.Select(e => JournalChange.Describe(e.WorkflowId, e.Event)));
}

/// <summary>One thing a journal write records of a workflow.</summary>
public sealed class JournalChange
{
    private readonly string _description;

    private JournalChange(string workflowId, JournalChangeKind kind, string? key, string? name, string description)
    {
        WorkflowId = workflowId;
        Kind = kind;
        Key = key;
        Name = name;
        _description = description;
    }

    /// <summary>The workflow it is about.</summary>
    public string WorkflowId { get; }

    /// <summary>What it records.</summary>
    public JournalChangeKind Kind { get; }

    /// <summary>The key of the step, timer, wait or parallel block it is about; null for a change of the whole workflow.</summary>
    public string? Key { get; }

    /// <summary>The step's id (a step started), the signal's name (a signal received or waited for), or the child's id (a child ended).</summary>
    public string? Name { get; }

    /// <summary>The change as a user reads it: <c>step wf:2 'charge' started (IN_PROGRESS, attempt 1)</c>.</summary>
    public override string ToString() => _description;

    /// <summary>What <paramref name="e"/> records, in one line (a step's completion with the next step's start, as written together).</summary>
    internal static string Describe(string workflowId, IJournalEvent e) => e is StepsCompletedThenStarted both
        ? string.Join(", ", both.Completed.Select(c => $"step {c.Key} completed")) + $" with step {both.Started.Key} '{both.Started.StepId}' started (IN_PROGRESS)"
        : string.Join(", ", Of(workflowId, e));

    internal static IEnumerable<JournalChange> Of(string workflowId, IJournalEvent e)
    {
        JournalChange Change(JournalChangeKind kind, string? key, string? name, string description) => new(workflowId, kind, key, name, description);
        switch (e)
        {
            case StepsCompletedThenStarted both:
                foreach (var completed in both.Completed)
                    yield return Change(JournalChangeKind.StepCompleted, completed.Key, null, $"step {completed.Key} completed");
                yield return Started(workflowId, both.Started);
                yield break;
            case StepStarted s:
                yield return Started(workflowId, s);
                yield break;
            case SignalReceived r when ChildSignals.ChildOf(r.Name) is { } child:
                yield return Change(JournalChangeKind.ChildEnded, null, child, $"child workflow '{child}' of '{workflowId}' ended");
                yield break;
        }
        yield return e switch
        {
            WorkflowStarted s => Change(JournalChangeKind.WorkflowStarted, null, null, $"workflow '{workflowId}' ({s.WorkflowType}) started"),
            BranchesReserved b => Change(JournalChangeKind.BranchesReserved, b.Key, null, $"{b.Count} parallel branches reserved at {b.Key}"),
            StepCompleted c => Change(JournalChangeKind.StepCompleted, c.Key, null, $"step {c.Key} completed"),
            StepFailed f => Change(JournalChangeKind.StepFailed, f.Key, null, $"step {f.Key} failed"),
            StepHeartbeated h => Change(JournalChangeKind.StepHeartbeated, h.Key, null, $"heartbeat of step {h.Key} (attempt {h.Attempt})"),
            RunResumed => Change(JournalChangeKind.WorkflowResumed, null, null, $"workflow '{workflowId}' resumed"),
            RunCompleted => Change(JournalChangeKind.WorkflowCompleted, null, null, $"workflow '{workflowId}' completed"),
            RunFailed => Change(JournalChangeKind.WorkflowFailed, null, null, $"workflow '{workflowId}' failed"),
            TimerStarted t => Change(JournalChangeKind.TimerStarted, t.Key, null, $"timer {t.Key} started"),
            TimerFired t => Change(JournalChangeKind.TimerFired, t.Key, null, $"timer {t.Key} fired"),
            SignalReceived r => Change(JournalChangeKind.SignalReceived, null, r.Name, $"signal '{r.Name}' received by '{workflowId}'"),
            SignalWaitStarted w => Change(JournalChangeKind.SignalWaitStarted, w.Key, w.Name, $"wait {w.Key} for signal '{w.Name}' started"),
            SignalWaitEnded w => Change(JournalChangeKind.SignalWaitEnded, w.Key, null, $"wait {w.Key} ended ({(w.TimedOut ? "timed out" : "signal taken")})"),
            WaitCancelled c => Change(JournalChangeKind.WaitCancelled, c.Key, null, $"wait {c.Key} cancelled"),
            CancelRequested => Change(JournalChangeKind.CancelRequested, null, null, $"cancellation of '{workflowId}' requested"),
            RunCancelled => Change(JournalChangeKind.WorkflowCancelled, null, null, $"workflow '{workflowId}' cancelled"),
            RunPaused => Change(JournalChangeKind.WorkflowPaused, null, null, $"workflow '{workflowId}' paused"),
            RunUnpaused => Change(JournalChangeKind.WorkflowUnpaused, null, null, $"workflow '{workflowId}' unpaused"),
            _ => Change(JournalChangeKind.Other, null, null, $"{e.GetType().Name} of '{workflowId}'"),
        };
    }

    private static JournalChange Started(string workflowId, StepStarted s) =>
        new(workflowId, JournalChangeKind.StepStarted, s.Key, s.StepId, $"step {s.Key} '{s.StepId}' started (IN_PROGRESS, attempt {s.Attempt})");
}

/// <summary>What a <see cref="JournalChange"/> records.</summary>
public enum JournalChangeKind
{
    /// <summary>A record this version does not describe.</summary>
    Other,

    /// <summary>The workflow started (or was enqueued).</summary>
    WorkflowStarted,

    /// <summary>A parallel block reserved its branches' keys.</summary>
    BranchesReserved,

    /// <summary>A step's attempt started: IN_PROGRESS.</summary>
    StepStarted,

    /// <summary>A step completed with its result.</summary>
    StepCompleted,

    /// <summary>A step's attempt failed.</summary>
    StepFailed,

    /// <summary>A running step's body heartbeated.</summary>
    StepHeartbeated,

    /// <summary>A durable timer started.</summary>
    TimerStarted,

    /// <summary>A durable timer fired.</summary>
    TimerFired,

    /// <summary>A signal sent to the workflow was received (kept until a wait takes it).</summary>
    SignalReceived,

    /// <summary>A wait for a signal started.</summary>
    SignalWaitStarted,

    /// <summary>A wait for a signal took one, or timed out.</summary>
    SignalWaitEnded,

    /// <summary>A timer or wait was cancelled through its token.</summary>
    WaitCancelled,

    /// <summary>A child workflow's end reached its parent.</summary>
    ChildEnded,

    /// <summary>Someone asked to cancel the workflow.</summary>
    CancelRequested,

    /// <summary>The workflow was resumed.</summary>
    WorkflowResumed,

    /// <summary>The workflow completed.</summary>
    WorkflowCompleted,

    /// <summary>The workflow failed.</summary>
    WorkflowFailed,

    /// <summary>The workflow was cancelled.</summary>
    WorkflowCancelled,

    /// <summary>The workflow was paused (or held on its queue).</summary>
    WorkflowPaused,

    /// <summary>The workflow was unpaused (or admitted by its queue).</summary>
    WorkflowUnpaused,
}
