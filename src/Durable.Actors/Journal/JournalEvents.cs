using System.Text.Json.Serialization;

namespace Durable.Actors.Journal;

// Bound to JournalEventSerializer in hocon/durable-actors.conf.
internal interface IJournalEvent;

// ParentId: the workflow that started this one as its child (absent for others), told when this one ends.
// TraceParent: the W3C traceparent of the workflow's first run span, which later runs link to (absent when nothing
// traced the start).
// Deadline: when the workflow is cancelled as timed out if it has not ended (its start's timeout, or its parent's
// deadline); absent when it has none.
// CancelWithParent: for a child, whether cancelling its parent cancels it (RunChildAsync's cancelWithParent); absent
// for others, and for children started before it was recorded.
// ForkedFrom, ForkedFromKey: the workflow this one was forked from (ForkWorkflow) and the source's key it was forked
// at (absent: from the top); the events that follow carry the source's records before that key (Decisions/ForkPlan).
internal sealed record WorkflowStarted(
    string WorkflowType,
    string InputJson,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ParentId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Deadline = null) : IJournalEvent
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFromKey { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? CancelWithParent { get; init; }
}

// A parallel block reserved Count consecutive sequence numbers for its branches, the first being Key.
internal sealed record BranchesReserved(string Key, int Count, DateTimeOffset At) : IJournalEvent;

// Node: in cluster mode, the node incarnation that runs the step (absent on one machine and in older events).
internal sealed record StepStarted(
    string Key,
    string StepId,
    int Attempt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Node = null) : IJournalEvent;

// Type: the step's declared result type (TypeNames), so that a replay that cannot read the result names both types.
// Absent in events written before it was recorded.
internal sealed record StepCompleted(
    string Key,
    string ResultJson,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type = null) : IJournalEvent;

// The completions a step's start carried (see WorkflowContext), and the start: one journal row instead of several,
// as one atomic write. Completions written without a following start stay StepCompleted events of their own.
internal sealed record StepsCompletedThenStarted(IReadOnlyList<StepCompleted> Completed, StepStarted Started) : IJournalEvent;

internal sealed record StepFailed(string Key, string Error, DateTimeOffset At) : IJournalEvent;

// A heartbeat of attempt Attempt of the step at Key (StepExecution.Heartbeat): the step is not stale until its
// heartbeat timeout after At. Details: where the body stands, as JSON, for a later attempt; absent for a heartbeat without.
internal sealed record StepHeartbeated(
    string Key,
    int Attempt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Details = null) : IJournalEvent;

// A run of a workflow whose last run failed began: the workflow is running again.
internal sealed record RunResumed(DateTimeOffset At) : IJournalEvent;

// A run (the first one or a resume) returned a result.
internal sealed record RunCompleted(string ResultJson, DateTimeOffset At) : IJournalEvent;

internal sealed record RunFailed(string Error, DateTimeOffset At) : IJournalEvent;

// A durable timer at Key, due at WakeAt: journaled once, so that every run waits for the same instant.
// Deadline: the workflow's (WorkflowStarted.Deadline), so that the index wakes a put-away workflow at the earlier of the two.
internal sealed record TimerStarted(
    string Key,
    DateTimeOffset WakeAt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Deadline = null) : IJournalEvent;

internal sealed record TimerFired(string Key, DateTimeOffset At) : IJournalEvent;

// A signal sent to the workflow, durable before its sender is told; waits consume a name's signals in this order.
// DeliveryId: the sender's id of this delivery (SignalWorkflow.DeliveryId), so that a resend is delivered once; absent when none was given.
internal sealed record SignalReceived(
    string Name,
    string PayloadJson,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeliveryId = null) : IJournalEvent;

// A wait at Key for the next signal named Name, timing out at TimeoutAt (null: never). Deadline: as for TimerStarted.
internal sealed record SignalWaitStarted(
    string Key,
    string Name,
    DateTimeOffset? TimeoutAt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Deadline = null) : IJournalEvent;

// The wait at Key ended: it consumed the next signal of its name (PayloadJson), or timed out.
internal sealed record SignalWaitEnded(string Key, string? PayloadJson, bool TimedOut, DateTimeOffset At) : IJournalEvent;

// The timer or signal wait at Key was cancelled through its token before it ended: it fires no more and consumes no
// signal; a replay throws OperationCanceledException there. (A workflow's cancellation ends its waits without this.)
internal sealed record WaitCancelled(string Key, DateTimeOffset At) : IJournalEvent;

// Someone asked to cancel the workflow; its runs see it through their token until the workflow ends.
// DeliveryId: the sender's id of this request (CancelWorkflow.DeliveryId), so that a resend is answered as the first was.
internal sealed record CancelRequested(
    string? Reason,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeliveryId = null) : IJournalEvent;

// A run of a workflow whose cancellation was requested ended: the workflow is cancelled.
internal sealed record RunCancelled(string? Reason, DateTimeOffset At) : IJournalEvent;

// Someone paused the workflow: it begins no new operation (no step, no new wait, no due timer fires, no signal ends a
// wait) until RunUnpaused. Deadline: the workflow's (WorkflowStarted.Deadline), so that the index wakes a paused
// workflow at its deadline, which cancels it (and ends the pause). Queue: set when the workflow was enqueued (written
// with its WorkflowStarted): it is ENQUEUED, held before its code runs until the queue admits it (RunUnpaused).
internal sealed record RunPaused(
    string? Reason,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Deadline = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Queue = null) : IJournalEvent;

// The pause ended: unpaused on request, or by the workflow's cancellation (which its cleanup code must be free to run),
// or its queue admitted it. InputJson: the input it runs with instead of its start's (a debounced enqueue: the last
// one's), set only by an admission, before any of its code ran.
internal sealed record RunUnpaused(
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? InputJson = null) : IJournalEvent;

internal static class LifecycleTag
{
    // Workflow lifecycle events carry this tag, so that recovery finds unfinished workflows without reading every
    // step event; step events stay untagged (a tag costs a row per event).
    public const string Name = "durable-workflow-lifecycle";

    public static bool Applies(IJournalEvent e) => e is WorkflowStarted or RunResumed or RunCompleted or RunFailed or RunCancelled;
}
