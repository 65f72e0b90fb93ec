namespace Durable.Actors;

/// <summary>Starts the workflow <paramref name="WorkflowId"/>, or resumes it if that id already exists.</summary>
/// <param name="WorkflowId">The workflow's id, unique in the database.</param>
/// <param name="WorkflowType">A type registered in the <see cref="WorkflowRegistry"/>.</param>
/// <param name="InputJson">The input as JSON; <c>null</c> for the input type's default.</param>
/// <remarks>
/// Replies <see cref="WorkflowCompleted"/> or <see cref="WorkflowFailed"/> when the run ends, or
/// <see cref="WorkflowRejected"/> when nothing was started. Starting an existing id never starts a second instance:
/// it resumes the recorded one with its recorded type and input.
/// </remarks>
public sealed record StartWorkflow(string WorkflowId, string WorkflowType, string? InputJson = null) : IWorkflowCommand
{
    /// <summary>
    /// The W3C <c>traceparent</c> of the caller, the parent of the workflow's first run span: by default the
    /// <see cref="System.Diagnostics.Activity.Current"/> where this message is created; <c>null</c> for none.
    /// </summary>
    public string? TraceParent { get; init; } = Observability.Telemetry.CurrentTraceParent();

    /// <summary>
    /// How long the workflow may take from this first start (a later start of the same id changes nothing): once it
    /// passed, the workflow is cancelled with a reason that says it timed out (its cleanup code runs, as for
    /// <see cref="CancelWorkflow"/>), and so are its children. Null for no limit; it must be more than zero.
    /// </summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Enqueues the workflow <paramref name="WorkflowId"/> on a queue (<see cref="EnqueueOptions.Queue"/>): it is recorded
/// as ENQUEUED at once and runs when the queue's limits admit it. Sent to the engine (the coordinator) like
/// <see cref="StartWorkflow"/>, on a host of the engine's SQLite file.
/// </summary>
/// <param name="WorkflowId">The workflow's id, unique in the database. An existing id is found, not enqueued again.</param>
/// <param name="WorkflowType">A type registered in the <see cref="WorkflowRegistry"/>.</param>
/// <param name="InputJson">The input as JSON; <c>null</c> for the input type's default.</param>
/// <param name="Options">The queue, the key, the priority, a deduplication id, a not-before time.</param>
/// <remarks>
/// Replies <see cref="WorkflowEnqueued"/> once the enqueue is durable (with the first's id when the deduplication id
/// was in use), or <see cref="WorkflowRejected"/> when nothing was enqueued (an unknown queue or type, bad options).
/// </remarks>
public sealed record EnqueueWorkflow(string WorkflowId, string WorkflowType, string? InputJson, EnqueueOptions Options);

/// <summary>Runs an existing workflow again: completed steps replay, the rest run.</summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <remarks>Replies like <see cref="StartWorkflow"/>, or <see cref="WorkflowNotFound"/> for an unknown id.</remarks>
public sealed record ResumeWorkflow(string WorkflowId) : IWorkflowCommand;

/// <summary>Asks for a workflow's status and step records.</summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <remarks>Replies <see cref="WorkflowStatus"/>, or <see cref="WorkflowNotFound"/> for an unknown id.</remarks>
public sealed record GetWorkflowStatus(string WorkflowId) : IWorkflowCommand;

/// <summary>Sends a signal to a workflow: a wait for <paramref name="SignalName"/> gets <paramref name="PayloadJson"/>.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="SignalName">The signal's name, as the workflow waits for it.</param>
/// <param name="PayloadJson">The payload as JSON; <c>null</c> for none.</param>
/// <remarks>
/// Replies <see cref="SignalDelivered"/> once the signal is durable (it is never lost: a signal sent before the
/// workflow waits, or while it is put away, waits for it), <see cref="WorkflowNotFound"/>, or
/// <see cref="WorkflowRejected"/> when the workflow has ended or the name or payload is not valid. Signals of one name
/// are consumed in the order they were delivered, each once.
/// </remarks>
public sealed record SignalWorkflow(string WorkflowId, string SignalName, string? PayloadJson = null) : IWorkflowCommand
{
    /// <summary>
    /// Optional: an id of this delivery, so that sending it again (a retry after a lost reply, as the client does on a
    /// cluster) delivers it once and answers <see cref="SignalDelivered"/> again. Null: every send is a new signal.
    /// </summary>
    public string? DeliveryId { get; init; }
}

/// <summary>Cancels a workflow: its token fires, a sleeping or waiting workflow wakes, and it ends as cancelled.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Reason">Why, kept with the record; optional.</param>
/// <remarks>
/// Replies <see cref="CancellationRequested"/> once the request is durable, <see cref="WorkflowNotFound"/>, or
/// <see cref="WorkflowRejected"/> when the workflow has already ended. The workflow may run cleanup steps (steps that
/// start after the cancellation run normally); its run then ends as <see cref="WorkflowRunStatus.Cancelled"/>, unless
/// its code returns a result anyway (then it completes).
/// </remarks>
public sealed record CancelWorkflow(string WorkflowId, string? Reason = null) : IWorkflowCommand
{
    /// <summary>
    /// Optional: an id of this request, so that sending it again (a retry after a lost reply, as the client does on a
    /// cluster) answers <see cref="CancellationRequested"/> again, even once the workflow has ended cancelled because of
    /// it. Null: a cancel that arrives after the end is rejected.
    /// </summary>
    public string? DeliveryId { get; init; }
}

/// <summary>
/// Pauses a running workflow: it begins no new operation (no step or attempt starts, no new wait begins, a timer that
/// comes due does not fire and a signal ends no wait) until <see cref="UnpauseWorkflow"/>; a step body already running
/// ends and is recorded. The pause is durable: it holds across restarts of the host and on a cluster.
/// </summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Reason">Why, shown with the status; optional.</param>
/// <remarks>
/// Replies <see cref="WorkflowPaused"/> once the pause is durable (again for a workflow paused already),
/// <see cref="WorkflowNotFound"/>, or <see cref="WorkflowRejected"/> when the workflow is not running (it ended or
/// failed). Signals sent meanwhile are kept; a cancellation, or the workflow's deadline, ends the pause.
/// </remarks>
public sealed record PauseWorkflow(string WorkflowId, string? Reason = null) : IWorkflowCommand;

/// <summary>Ends a workflow's pause (<see cref="PauseWorkflow"/>): it goes on where it stopped, and timers that came due meanwhile fire.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <remarks>
/// Replies <see cref="WorkflowUnpaused"/> once that is durable (also for a running workflow that was not paused),
/// <see cref="WorkflowNotFound"/>, or <see cref="WorkflowRejected"/> when the workflow is not running.
/// </remarks>
public sealed record UnpauseWorkflow(string WorkflowId) : IWorkflowCommand;

/// <summary>
/// Deletes an ended workflow (completed, failed or cancelled): its events, its row of the workflow index and its
/// signals, in one transaction, so that after a crash it is whole or gone. Its id may then be started again as a new
/// workflow, which runs its code (it never gets the old result).
/// </summary>
/// <param name="WorkflowId">The workflow.</param>
/// <remarks>
/// Replies <see cref="WorkflowPurged"/> once the deletion is durable, <see cref="WorkflowNotFound"/> (also for an id
/// purged already), or <see cref="WorkflowRejected"/> for a running, paused or enqueued workflow (nothing is changed). Its
/// children are not purged with it: <see cref="WorkflowClient.PurgeAsync(WorkflowQuery, bool, System.Threading.CancellationToken)"/> does that on request.
/// </remarks>
public sealed record PurgeWorkflow(string WorkflowId) : IWorkflowCommand;

/// <summary>
/// Starts workflow <paramref name="WorkflowId"/> as a fork of the ended workflow <paramref name="SourceId"/>: it
/// carries the source's records of what ended before <paramref name="From"/> (those replay) and runs the rest with the
/// code deployed now. The source is not changed. Without <paramref name="From"/> it runs again from the top under the
/// new id: a restart.
/// </summary>
/// <param name="WorkflowId">The new workflow's id, which must not exist yet.</param>
/// <param name="SourceId">A completed, failed or cancelled workflow.</param>
/// <param name="From">
/// The source's operation to run again and all that follows it: its key (<c>order-7:4</c>) or its sequence (<c>4</c>,
/// <c>3.2</c> inside a parallel block), as <see cref="StepRecord.Key"/> shows it. Null: from the top.
/// </param>
/// <param name="InputJson">The new workflow's input as JSON; null for the source's.</param>
/// <remarks>
/// Replies as <see cref="StartWorkflow"/> does when the new workflow's run ends, or <see cref="WorkflowRejected"/> when
/// nothing was started (the source is unknown or still running, no operation is recorded at that key, the id exists).
/// The new workflow's start and the carried records are written in one transaction: after a crash the new workflow
/// exists whole or not at all, and sending the same fork again joins it. Signals the source received are carried too:
/// those its carried waits consumed stay consumed, the others wait for the new workflow. A failed step, or one in
/// progress when the source ended, runs again.
/// </remarks>
public sealed record ForkWorkflow(string WorkflowId, string SourceId, string? From = null, string? InputJson = null) : IWorkflowCommand
{
    /// <summary>How long the new workflow may take (as <see cref="StartWorkflow.Timeout"/>); the source's deadline is not carried.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>A message the coordinator routes to the actor of <see cref="WorkflowId"/>.</summary>
public interface IWorkflowCommand
{
    /// <summary>The workflow the message is for.</summary>
    string WorkflowId { get; }
}
