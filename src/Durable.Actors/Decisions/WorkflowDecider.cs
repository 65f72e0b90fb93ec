using Durable.Actors.Journal;

namespace Durable.Actors.Decisions;

/// <summary>
/// The journal's rules for what a run of a workflow's code asks, in one place and free of Akka: which key a call gets
/// (in call order per scope, stepping over the markers of patches the code no longer asks for), and whether the record
/// at that key lets the call replay, asks it to run, or says the code is not the code that wrote it, and what a
/// decision to run or begin records (the events to persist). A run takes its keys and replays what is recorded with one
/// over its copy of the journal (<see cref="RunHistory"/>); the workflow actor decides with one over the journal as it
/// stands (it applies each event once it is durable) on the calls the run brings it, persists what they record and
/// replies; the offline replay check reports the decisions and persists nothing.
/// </summary>
internal sealed class WorkflowDecider(string workflowId, WorkflowJournal journal)
{
    private readonly Dictionary<string, int> _sequences = new(StringComparer.Ordinal);

    public string WorkflowId => workflowId;

    public string Key(string scope, int sequence) => StepKeys.Of(workflowId, scope, sequence);

    /// <summary>
    /// Reserves the next <paramref name="count"/> keys of <paramref name="scope"/> and returns the first one's sequence
    /// number, after stepping over recorded patch markers (the patch call was removed from the code).
    /// </summary>
    public int Reserve(string scope, int count)
    {
        while (journal.HasPatchMarkers && journal.TryGetStep(Key(scope, Peek(scope)), out var step) && PatchMarkers.IsMarker(step.StepId))
            Take(scope, 1);
        return Take(scope, count);
    }

    /// <summary>
    /// <see cref="IWorkflowContext.PatchedAsync"/>: its marker recorded at the next key (the new path, replayed); the
    /// old code's record there (the old path: the key stays for what the old path asks next); or nothing recorded (the
    /// new path, whose marker is to be written at the key, which is taken).
    /// </summary>
    public PatchDecision DecidePatch(string scope, string patchId, DateTimeOffset now)
    {
        var marker = PatchMarkers.StepId(patchId);
        while (true)
        {
            var key = Key(scope, Peek(scope));
            journal.TryGetStep(key, out var step);
            if (step is not null && PatchMarkers.IsMarker(step.StepId))
            {
                Take(scope, 1);
                if (step.StepId == marker)
                    return new PatchDecision(PatchOutcome.Recorded, key, []);
                // The marker of a patch whose call the code no longer makes.
                continue;
            }
            if (!IsFree(key))
                return new PatchDecision(PatchOutcome.OldPath, key, []);
            Take(scope, 1);
            return new PatchDecision(PatchOutcome.New, key,
                [new StepStarted(key, marker, 1, now), new StepCompleted(key, "true", now, TypeNames.For<bool>())]);
        }
    }

    /// <summary>
    /// A step <paramref name="stepId"/> asked at <paramref name="key"/>; a step to run is recorded as started at
    /// <paramref name="now"/> by <paramref name="node"/> (a cluster node, or null).
    /// </summary>
    public StepCall DecideStep(string key, string stepId, DateTimeOffset now, string? node)
    {
        if (Completed(key, stepId) is { } completed)
            return new StepCall.Replay(completed);
        if (journal.TryGetWait(key, out var wait))
            return new StepCall.Conflict(new Recorded(key, null, wait.Kind));
        if (!journal.TryGetStep(key, out var step))
            return journal.IsBranchKey(key)
                ? new StepCall.Conflict(new Recorded(key, null, "a parallel branch"))
                : new StepCall.Run(null, new StepStarted(key, stepId, 1, now, node));
        if (step.StepId != stepId)
            return new StepCall.Conflict(new Recorded(key, step.StepId, null));
        return step.Status switch
        {
            StepStatus.Failed => new StepCall.Run(step, new StepStarted(key, stepId, step.Attempts + 1, now, node)),
            _ => new StepCall.InProgress(step),
        };
    }

    /// <summary>Whether nothing is recorded at <paramref name="key"/>: no step, no wait, no branch.</summary>
    public bool IsFree(string key) => !journal.TryGetStep(key, out _) && !journal.TryGetWait(key, out _) && !journal.IsBranchKey(key);

    /// <summary>The step <paramref name="stepId"/> recorded as completed at <paramref name="key"/>, which a call there replays; else null.</summary>
    public WorkflowJournal.StepEntry? Completed(string key, string stepId) =>
        journal.TryGetStep(key, out var step) && step.Status == StepStatus.Completed && step.StepId == stepId && !journal.TryGetWait(key, out _)
            ? step
            : null;

    /// <summary>
    /// The wait recorded as ended at <paramref name="key"/>, a timer (<paramref name="signalName"/> null) or a wait for
    /// that signal, which a call there replays as it ended; else null.
    /// </summary>
    public WorkflowJournal.WaitEntry? Ended(string key, string? signalName) =>
        journal.TryGetWait(key, out var wait) && wait.SignalName == signalName && wait.EndedAt is not null && !wait.Cancelled ? wait : null;

    /// <summary>
    /// The wait recorded at <paramref name="key"/> that a call there replays without the actor: ended (as it ended) or
    /// cancelled through its token (it throws); else null.
    /// </summary>
    public WorkflowJournal.WaitEntry? Closed(string key, string? signalName) =>
        journal.TryGetWait(key, out var wait) && wait.SignalName == signalName && wait.EndedAt is not null ? wait : null;

    /// <summary>A timer asked at <paramref name="key"/>; a new one is recorded at <paramref name="now"/>, due at <paramref name="wakeAt"/>.</summary>
    public WaitCall DecideTimer(string key, DateTimeOffset wakeAt, DateTimeOffset now) =>
        DecideWait(key, null, () => new TimerStarted(key, wakeAt, now, journal.Deadline));

    /// <summary>
    /// A wait for the signal <paramref name="signalName"/> asked at <paramref name="key"/>; a new one is recorded at
    /// <paramref name="now"/>, timing out <paramref name="timeout"/> later (never, when null).
    /// </summary>
    public WaitCall DecideSignalWait(string key, string signalName, TimeSpan? timeout, DateTimeOffset now) =>
        DecideWait(key, signalName, () => new SignalWaitStarted(key, signalName, now + timeout, now, journal.Deadline));

    /// <summary>
    /// A recorded wait replays as it ended, even after a cancellation (the replay follows the record), and one cancelled
    /// through its token replays as cancelled; one that has not ended, or a new one, is cancelled once the workflow's
    /// cancellation is recorded, and otherwise goes on or begins.
    /// </summary>
    private WaitCall DecideWait(string key, string? signalName, Func<IJournalEvent> begin)
    {
        if (Ended(key, signalName) is { } ended)
            return new WaitCall.Ended(ended);
        if (journal.TryGetWait(key, out var wait))
        {
            if (wait.SignalName != signalName)
                return new WaitCall.Conflict(new Recorded(key, null, wait.Kind));
            return journal.CancelRequested || wait.Cancelled ? WaitCall.Cancelled.Instance : new WaitCall.Resume(wait);
        }
        if (journal.TryGetStep(key, out var step))
            return new WaitCall.Conflict(new Recorded(key, step.StepId, null));
        if (journal.IsBranchKey(key))
            return new WaitCall.Conflict(new Recorded(key, null, "a parallel branch"));
        return journal.CancelRequested ? WaitCall.Cancelled.Instance : new WaitCall.Begin(begin());
    }

    /// <summary>A parallel block whose branches got <paramref name="keys"/>; a new one reserves them at <paramref name="now"/>.</summary>
    public BlockCall DecideBlock(IReadOnlyList<string> keys, DateTimeOffset now)
    {
        if (journal.TryGetBlock(keys[0], out var recorded))
            return recorded == keys.Count
                ? BlockCall.Replay.Instance
                : new BlockCall.Conflict(new Recorded(keys[0], null, $"a parallel block of {recorded} branches"));
        foreach (var key in keys)
        {
            if (journal.TryGetStep(key, out var step))
                return new BlockCall.Conflict(new Recorded(key, step.StepId, null));
            if (journal.TryGetWait(key, out var wait))
                return new BlockCall.Conflict(new Recorded(key, null, wait.Kind));
            if (journal.IsBranchKey(key))
                return new BlockCall.Conflict(new Recorded(key, null, "a branch of another parallel block"));
        }
        return new BlockCall.Begin(new BranchesReserved(keys[0], keys.Count, now));
    }

    private int Peek(string scope) => _sequences.GetValueOrDefault(scope) + 1;

    private int Take(string scope, int count)
    {
        var first = Peek(scope);
        _sequences[scope] = first + count - 1;
        return first;
    }
}

/// <summary>What the journal holds at <paramref name="Key"/> where the code asked for something else: a step, or another kind of record.</summary>
internal sealed record Recorded(string Key, string? StepId, string? Other)
{
    /// <summary>As the nondeterminism error names it: the step's id, or the kind of record.</summary>
    public string Name => StepId ?? Other!;

    /// <summary>As a sentence names it: <c>step 'x'</c>, or the kind of record.</summary>
    public string Describe() => StepId is { } id ? $"step '{id}'" : Other!;
}

internal enum PatchOutcome
{
    /// <summary>The patch's marker is recorded: the new path, replayed.</summary>
    Recorded,

    /// <summary>The old code's record is there: the old path.</summary>
    OldPath,

    /// <summary>Nothing is recorded: the new path, and its marker is to be written.</summary>
    New,
}

/// <summary>A patch's decision, and what it records (the marker, for <see cref="PatchOutcome.New"/>).</summary>
internal sealed record PatchDecision(PatchOutcome Outcome, string Key, IReadOnlyList<IJournalEvent> Events);

internal abstract record StepCall
{
    private StepCall() { }

    /// <summary>Completed: the recorded result is returned.</summary>
    public sealed record Replay(WorkflowJournal.StepEntry Step) : StepCall;

    /// <summary>
    /// Not recorded, or failed last time (<paramref name="Failed"/>): the body runs as the attempt <paramref name="Started"/>
    /// records.
    /// </summary>
    public sealed record Run(WorkflowJournal.StepEntry? Failed, StepStarted Started) : StepCall
    {
        public int Attempt => Started.Attempt;
    }

    /// <summary>IN_PROGRESS: a zombie of a run that died, or a run elsewhere still going (the actor's zombie rule decides).</summary>
    public sealed record InProgress(WorkflowJournal.StepEntry Step) : StepCall;

    /// <summary>The record there is not this step: the code is not the code that wrote the workflow.</summary>
    public sealed record Conflict(Recorded Recorded) : StepCall;
}

internal abstract record WaitCall
{
    private WaitCall() { }

    /// <summary>This wait is recorded as ended (fired, signalled or timed out): it replays so.</summary>
    public sealed record Ended(WorkflowJournal.WaitEntry Wait) : WaitCall;

    /// <summary>This wait is recorded and has not ended: it goes on, until its recorded due time if it has one.</summary>
    public sealed record Resume(WorkflowJournal.WaitEntry Wait) : WaitCall;

    /// <summary>
    /// The workflow's cancellation is recorded (a wait that has not ended, or a new one, is cancelled), or this wait is
    /// recorded as cancelled through its token.
    /// </summary>
    public sealed record Cancelled : WaitCall
    {
        public static Cancelled Instance { get; } = new();
    }

    /// <summary>Nothing is recorded: the wait begins, recorded by <paramref name="Started"/>.</summary>
    public sealed record Begin(IJournalEvent Started) : WaitCall;

    public sealed record Conflict(Recorded Recorded) : WaitCall;
}

internal abstract record BlockCall
{
    private BlockCall() { }

    /// <summary>This block is recorded with as many branches.</summary>
    public sealed record Replay : BlockCall
    {
        public static Replay Instance { get; } = new();
    }

    /// <summary>Nothing is recorded at its keys: <paramref name="Reserved"/> reserves them as branches.</summary>
    public sealed record Begin(BranchesReserved Reserved) : BlockCall;

    public sealed record Conflict(Recorded Recorded) : BlockCall;
}
