namespace Durable.Actors.Runtime;

// Messages between a running workflow (outside the actor) and its workflow actor, the single writer of its journal.
// They never leave the process, so they carry the completion sources the run awaits.

/// <summary>
/// A step whose body returned and whose COMPLETED record is not written yet. The run puts it in
/// <see cref="WorkflowRequests"/> before it asks the actor for anything else, and the actor writes every pending
/// completion with its next record (the next step's IN_PROGRESS, a parallel block's reservation, the run's end) in one
/// atomic write: so a completion is durable no later than the next record of its context, whichever thread asks.
/// <paramref name="Recorded"/>: a value the run recorded (<see cref="IWorkflowContext.NowAsync"/> and the like) where
/// nothing is recorded at its key; no IN_PROGRESS record precedes it, and its start is written with its completion.
/// </summary>
internal sealed record PendingCompletion(string Key, string StepId, int Attempt, string ResultJson, string? ResultType, bool Recorded = false);

/// <summary>
/// Asks what to do with the step at <paramref name="Key"/>, the next key of its scope, which the run took itself
/// (<see cref="Decisions.RunHistory"/>): sent only where the run's copy of the journal did not let the step replay.
/// </summary>
/// <paramref name="HeartbeatTimeout"/>: the step's (<see cref="StepOptions.HeartbeatTimeout"/>), which decides when an
/// IN_PROGRESS record of it turns stale; null for the stale timeout.
internal sealed record BeginStep(int RunId, string Key, string StepId, TaskCompletionSource<StepDecision> Reply, TimeSpan? HeartbeatTimeout = null);

/// <summary>Sent to self to decide again on a step that waited for a young IN_PROGRESS record to turn stale.</summary>
internal sealed record DecideStepAgain(int RunId, string Key, string StepId, TaskCompletionSource<StepDecision> Reply, TimeSpan? HeartbeatTimeout = null);

/// <summary>A heartbeat of a step's body (<see cref="StepExecution.Heartbeat()"/>), to be recorded while that attempt runs.</summary>
internal sealed record RecordHeartbeat(int RunId, string Key, int Attempt, string? Details, DateTimeOffset At);

/// <summary>
/// Writes the pending completions on their own: a branch that ended has no next record, and a run that waits outside
/// steps should not hold its completions back (the idle flush). <paramref name="Reply"/> ends when they are durable.
/// </summary>
internal sealed record WriteCompletions(TaskCompletionSource? Reply);

/// <summary>
/// Writes the marker of a patch that nothing is recorded for at its key (<see cref="IWorkflowContext.PatchedAsync"/>
/// takes the new path): <paramref name="Events"/>, as the run's decider made them.
/// </summary>
internal sealed record BeginPatch(int RunId, IReadOnlyList<Journal.IJournalEvent> Events, TaskCompletionSource<bool> Reply);

internal sealed record FailStep(int RunId, string Key, string Error, TaskCompletionSource Reply);

/// <summary>
/// Asks for a durable timer at <paramref name="Key"/>, the next key of <paramref name="Scope"/> (one the run's copy of
/// the journal has not seen fire): at <paramref name="WakeAt"/>, or after <paramref name="Delay"/>.
/// <paramref name="Parent"/>: the trace context of the code that waits, the parent of the wait's span.
/// </summary>
internal sealed record BeginTimer(int RunId, string Key, string Scope, DateTimeOffset? WakeAt, TimeSpan? Delay, TaskCompletionSource Reply,
    System.Diagnostics.ActivityContext Parent = default);

/// <summary>Asks to wait at <paramref name="Key"/>, the next key of <paramref name="Scope"/>, for the next signal named <paramref name="Name"/>.</summary>
internal sealed record BeginSignalWait(int RunId, string Key, string Scope, string Name, TimeSpan? Timeout, TaskCompletionSource<SignalOutcome> Reply,
    System.Diagnostics.ActivityContext Parent = default);

/// <summary>
/// The token of the wait at <paramref name="Key"/> of run <paramref name="RunId"/> was cancelled: a wait still going is
/// recorded as cancelled and throws; one that ended first stays as it ended.
/// </summary>
internal sealed record CancelWait(int RunId, string Key);

/// <summary>How a signal wait ended: a payload, or timed out.</summary>
internal sealed record SignalOutcome(string Key, string? PayloadJson, bool TimedOut);

/// <summary>Sent to self when the wait at <paramref name="Key"/> of run <paramref name="RunId"/> is due (a timer fires, a signal wait times out).</summary>
internal sealed record WaitDue(int RunId, string Key);

/// <summary>A workflow the coordinator woke (<see cref="ContinueWorkflow"/>) reached its frontier: its place in the wake-up queue is free.</summary>
internal sealed record WokeUp(string WorkflowId);

/// <summary>Tells the coordinator to wake a put-away workflow at <paramref name="DueAt"/>.</summary>
internal sealed record WakeAt(string WorkflowId, DateTimeOffset DueAt);

/// <summary>
/// Starts <paramref name="WorkflowId"/> (as a child of <paramref name="ParentId"/> when given) and replies
/// <see cref="WorkflowBegun"/> once the start is durable, or at once when it existed; the run goes on without a caller.
/// <paramref name="TraceParent"/>: the caller's trace context, the parent of the first run's span.
/// <paramref name="Timeout"/> (from the start) and <paramref name="Deadline"/> (a parent's): the earlier is the workflow's deadline.
/// <paramref name="Queue"/>: the workflow is enqueued there (ENQUEUED, none of its code runs) until <see cref="AdmitWorkflow"/>.
/// <paramref name="CancelWithParent"/>: for a child, whether cancelling its parent cancels it (recorded with its start).
/// </summary>
internal sealed record BeginWorkflow(string WorkflowId, string WorkflowType, string InputJson, string? ParentId, string? TraceParent = null,
    TimeSpan? Timeout = null, DateTimeOffset? Deadline = null, string? Queue = null, bool? CancelWithParent = null) : IWorkflowCommand;

/// <summary>
/// The cancelled parent <paramref name="ParentId"/> cancels its child <paramref name="WorkflowId"/> when the child was
/// started to be cancelled with it (<see cref="BeginWorkflow.CancelWithParent"/>); answered as
/// <see cref="CancelWorkflow"/> is, or <see cref="WorkflowRejected"/> when the child goes on alone.
/// </summary>
internal sealed record CancelChildWorkflow(string WorkflowId, string ParentId, string Reason) : IWorkflowCommand;

/// <summary>
/// Its queue admits an enqueued workflow: it runs, with <paramref name="InputJson"/> when given (a debounced enqueue's
/// last input). Replies <see cref="WorkflowAdmitted"/> once that is durable (at once when it runs already: admitted
/// before, or never enqueued), the end reply of an ended one, or <see cref="WorkflowNotFound"/>.
/// </summary>
internal sealed record AdmitWorkflow(string WorkflowId, string? InputJson = null) : IWorkflowCommand;

internal sealed record WorkflowAdmitted(string WorkflowId);

/// <summary>Told to the queue dispatcher when an enqueued workflow was cancelled before its queue admitted it: its entry goes.</summary>
internal sealed record EnqueuedWorkflowCancelled(string WorkflowId);

/// <summary>
/// Told to the queue dispatcher: a workflow it admitted gave its slot back to sleep until <paramref name="WakeAt"/>
/// (<see cref="QueueOptions.ReleaseSlotWhileSleeping"/>), written held by its queue again.
/// </summary>
internal sealed record SlotReleased(string WorkflowId, DateTimeOffset WakeAt);

/// <summary>
/// <see cref="ForkWorkflow"/> that replies <see cref="WorkflowBegun"/> once the fork is durable (or at once when this
/// fork exists already): the typed client's fork. <paramref name="TraceParent"/>: as for <see cref="BeginWorkflow"/>.
/// </summary>
internal sealed record BeginFork(ForkWorkflow Fork, string? TraceParent = null) : IWorkflowCommand
{
    public string WorkflowId => Fork.WorkflowId;
}

/// <summary>
/// The retention sweep asks the coordinator of one machine to purge workflows it found ended (see
/// <c>WorkflowCoordinatorActor.OnPurgeEnded</c>); answered <see cref="EndedWorkflowsPurged"/>.
/// </summary>
internal sealed record PurgeEndedWorkflows(IReadOnlyList<string> WorkflowIds);

/// <summary>
/// The ids purged, and those held by an actor (or by a purge under way), which the sweep purges one by one
/// (<see cref="PurgeWorkflow"/>); the rest were no longer ended (or gone already).
/// </summary>
internal sealed record EndedWorkflowsPurged(IReadOnlyList<string> Purged, IReadOnlyList<string> Held);

/// <summary>
/// Runs <paramref name="WorkflowId"/> on if it is still RUNNING (a recovery or a wake-up that found it so), and answers
/// how it ended otherwise: unlike <see cref="ResumeWorkflow"/>, it never runs a workflow that failed meanwhile again.
/// </summary>
internal sealed record ContinueWorkflow(string WorkflowId) : IWorkflowCommand;

/// <summary>
/// Asks the coordinator to reply once <paramref name="WorkflowId"/> has ended (completed, failed, cancelled), without
/// running it. <paramref name="WatchId"/> names the watch, so that a caller that stops waiting takes it back
/// (<see cref="UnwatchWorkflow"/>); null for a watch kept until the end.
/// </summary>
internal sealed record WatchWorkflow(string WorkflowId, string? WatchId = null);

/// <summary>The caller of the watch <paramref name="WatchId"/> stopped waiting: the coordinator forgets it (no reply).</summary>
internal sealed record UnwatchWorkflow(string WorkflowId, string WatchId);

/// <summary>
/// Asks whether nothing goes on by itself (a bool): no workflow actor has work in hand, and every piece of running
/// workflow code (the top level and each branch) awaits a timer, a signal, a child, a step another host holds or its
/// own parallel block. Sent to the coordinator, which asks each workflow's actor; the test kit moves its virtual time
/// only then. A message on its way between two actors is not seen: the kit asks twice.
/// </summary>
internal sealed class QueryQuiet
{
    public static QueryQuiet Instance { get; } = new();

    private QueryQuiet() { }
}

/// <summary>Asks the coordinator how many callers wait for the end of <paramref name="WorkflowId"/> (an int).</summary>
internal sealed record CountWatchers(string WorkflowId);

/// <summary>Asks a workflow's actor how it stands: <see cref="WorkflowEnded"/> when it ended, else <see cref="StillRunning"/>.</summary>
internal sealed record ReportEnd(string WorkflowId) : IWorkflowCommand;

/// <summary>A workflow ended: <paramref name="Reply"/> is its final reply (completed, failed, cancelled, not found).</summary>
internal sealed record WorkflowEnded(string WorkflowId, object Reply);

internal sealed record StillRunning(string WorkflowId);

internal sealed record WorkflowBegun(string WorkflowId);

/// <summary>Tells parent <paramref name="WorkflowId"/> how its child <paramref name="ChildId"/> ended (<see cref="ChildOutcome"/> as JSON), as the signal its wait takes.</summary>
internal sealed record ChildWorkflowEnded(string WorkflowId, string ChildId, string OutcomeJson) : IWorkflowCommand;

/// <summary>
/// Asks child <paramref name="WorkflowId"/> to tell its parent how it ended, if it has (a parent that waits again after
/// a crash, or that asks again now and then on a cluster, where the child's message is lost with a node that dies).
/// <paramref name="RunOn"/>: a child left running with no run goes on (false for the periodic asks, which only look).
/// </summary>
internal sealed record ReportToParent(string WorkflowId, bool RunOn = true) : IWorkflowCommand;

/// <summary>
/// Cluster mode: parent <paramref name="ParentId"/> waits for child <paramref name="ChildId"/>; its coordinator asks the
/// child every <c>child-recheck-interval</c> until the child's end reaches the parent.
/// </summary>
internal sealed record RecheckChild(string ParentId, string ChildId);

internal sealed record ReportedToParent(string WorkflowId);

/// <summary>How a child workflow ended, as its parent receives it.</summary>
internal sealed record ChildOutcome(string Status, string? ResultJson, string? Error);

/// <summary>A workflow actor has nothing to do: the coordinator may ask it to passivate before passivate-after when too many are idle.</summary>
internal sealed record BecameIdle(string WorkflowId);

/// <summary>A workflow actor with nothing to do asks its coordinator to stop it and forget it.</summary>
internal sealed record Passivate(string WorkflowId);

/// <summary>Asks the coordinator how many workflows it holds an actor for (an int): what passivation keeps bounded.</summary>
internal sealed record CountWorkflowActors;

/// <summary>The workflow method of run <paramref name="RunId"/> returned (<paramref name="ResultJson"/>) or threw (<paramref name="Error"/>).</summary>
internal sealed record RunFinished(int RunId, string? ResultJson, string? Error);

internal abstract record StepDecision(string Key);

/// <summary>The step completed before: return its recorded result.</summary>
internal sealed record ReplayStep(string Key, string ResultJson, string? ResultType) : StepDecision(Key);

/// <summary>
/// The IN_PROGRESS record of this attempt is durable: run the body. <paramref name="HeartbeatDetails"/>: the details of
/// the step's last heartbeat that had details (an earlier attempt's), for the body to go on from.
/// </summary>
internal sealed record ExecuteStep(string Key, int Attempt, string? HeartbeatDetails = null) : StepDecision(Key);

/// <summary>
/// Asks to reserve <paramref name="Keys"/>, the next keys of the block's scope, as its branches and to start them in
/// child actors; branch i gets <paramref name="BranchTokens"/>[i] (a parallel block gives all the block's token, a race
/// each branch its own). <paramref name="Race"/>: the branches of <see cref="IWorkflowContext.WhenAnyAsync"/>.
/// </summary>
internal sealed record BeginParallel(
    int RunId,
    IReadOnlyList<string> Keys,
    IReadOnlyList<Func<IWorkflowContext, Task<object?>>> Branches,
    WorkflowContext Parent,
    TaskCompletionSource<IReadOnlyList<ParallelBranch>> Reply,
    IReadOnlyList<CancellationToken> BranchTokens,
    bool Race = false);

/// <summary>
/// A running branch: <paramref name="Number"/> counts from 1 in declaration order; <paramref name="Key"/> is its reserved
/// key; <paramref name="InRace"/>: a branch of a race.
/// </summary>
internal sealed record ParallelBranch(string Key, int Number, WorkflowContext Context, TaskCompletionSource<object?> Completion, bool InRace = false);

/// <summary>Cluster mode: asks the coordinator of one bucket of workflow ids to exist (its start recovers that bucket's workflows).</summary>
internal sealed record EnsureBucket(int Bucket);

/// <summary>
/// Cluster mode: sharding's hand-off message for a bucket that moves to another node (a node joined, or this one
/// leaves). The bucket drains its workflows (<see cref="DrainWorkflow"/>), hands their requests and watchers to the
/// workflows' new home through the shard region (<see cref="HandedOn"/>), and stops.
/// </summary>
internal sealed class HandOffBucket
{
    public static HandOffBucket Instance { get; } = new();

    private HandOffBucket() { }
}

/// <summary>
/// Tells a workflow's actor to stop at a safe point: it begins nothing more (no step, wait or block), lets the step
/// bodies running end, writes their outcomes and the steps it started whose bodies never began as failed, then says
/// <see cref="WorkflowDrained"/>.
/// </summary>
internal sealed class DrainWorkflow
{
    public static DrainWorkflow Instance { get; } = new();

    private DrainWorkflow() { }
}

/// <summary>A workflow's actor drained: its coordinator may stop it and hand its requests on.</summary>
internal sealed record WorkflowDrained(string WorkflowId);

/// <summary>
/// Cluster mode: a request, watch or unwatch that a moving bucket hands on to the workflow's new home, with the caller
/// it answers. Sharding delivers it at most once (a region drops what it buffered for a bucket that is handed off again
/// before it arrived), so the node's hand-on relay sends it again until the new home acknowledges it
/// (<see cref="HandOnReceived"/>, to the sender); the new home takes each id once.
/// </summary>
internal sealed record HandedOn(string Id, string WorkflowId, object Message, Akka.Actor.IActorRef Caller);

/// <summary>The new home of a workflow took up <see cref="HandedOn"/> <paramref name="Id"/>.</summary>
internal sealed record HandOnReceived(string Id);

/// <summary>Tells the node's hand-on relay that <paramref name="Message"/> went out once and waits for its acknowledgement.</summary>
internal sealed record TrackHandOn(HandedOn Message);
