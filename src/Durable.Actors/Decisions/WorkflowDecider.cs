using Durable.Actors.Journal;

namespace Durable.Actors.Decisions;

/// <summary>
/// The journal's rules for what a run of a workflow's code asks, in one place and free of Akka: which key a call gets
/// (in call order per scope, stepping over the markers of patches the code no longer asks for), and whether the record
/// at that key lets the call replay, asks it to run, or says the code is not the code that wrote it. The workflow
/// actor acts on these decisions (it writes and replies); the offline replay check reports them. One decider per run:
/// it keeps the run's sequence numbers, and reads the journal as it stands when asked.
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
    public PatchDecision DecidePatch(string scope, string patchId)
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
                    return new PatchDecision(PatchOutcome.Recorded, key);
                // The marker of a patch whose call the code no longer makes.
                continue;
            }
            if (step is not null || journal.TryGetWait(key, out _) || journal.IsBranchKey(key))
                return new PatchDecision(PatchOutcome.OldPath, key);
            Take(scope, 1);
            return new PatchDecision(PatchOutcome.New, key);
        }
    }

    /// <summary>A step <paramref name="stepId"/> asked at <paramref name="key"/>.</summary>
    public StepCall DecideStep(string key, string stepId)
    {
        if (journal.TryGetWait(key, out var wait))
            return new StepCall.Conflict(new Recorded(key, null, wait.Kind));
        if (!journal.TryGetStep(key, out var step))
            return journal.IsBranchKey(key) ? new StepCall.Conflict(new Recorded(key, null, "a parallel branch")) : StepCall.Run.FirstAttempt;
        if (step.StepId != stepId)
            return new StepCall.Conflict(new Recorded(key, step.StepId, null));
        return step.Status switch
        {
            StepStatus.Completed => new StepCall.Replay(step),
            StepStatus.Failed => new StepCall.Run(step.Attempts + 1, step),
            _ => new StepCall.InProgress(step),
        };
    }

    /// <summary>A timer (<paramref name="signalName"/> null) or a wait for a signal asked at <paramref name="key"/>.</summary>
    public WaitCall DecideWait(string key, string? signalName)
    {
        if (journal.TryGetWait(key, out var wait))
            return wait.SignalName == signalName ? new WaitCall.Replay(wait) : new WaitCall.Conflict(new Recorded(key, null, wait.Kind));
        if (journal.TryGetStep(key, out var step))
            return new WaitCall.Conflict(new Recorded(key, step.StepId, null));
        if (journal.IsBranchKey(key))
            return new WaitCall.Conflict(new Recorded(key, null, "a parallel branch"));
        return WaitCall.Begin.Instance;
    }

    /// <summary>A parallel block whose branches got <paramref name="keys"/>.</summary>
    public BlockCall DecideBlock(IReadOnlyList<string> keys)
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
        return BlockCall.Begin.Instance;
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

internal sealed record PatchDecision(PatchOutcome Outcome, string Key);

internal abstract record StepCall
{
    private StepCall() { }

    /// <summary>Completed: the recorded result is returned.</summary>
    public sealed record Replay(WorkflowJournal.StepEntry Step) : StepCall;

    /// <summary>Not recorded (attempt 1), or failed last time (<paramref name="Failed"/>): the body runs as this attempt.</summary>
    public sealed record Run(int Attempt, WorkflowJournal.StepEntry? Failed) : StepCall
    {
        /// <summary>A step not recorded yet: every executed step of a new run, so made once.</summary>
        public static Run FirstAttempt { get; } = new(1, null);
    }

    /// <summary>IN_PROGRESS: a zombie of a run that died, or a run elsewhere still going (the actor's zombie rule decides).</summary>
    public sealed record InProgress(WorkflowJournal.StepEntry Step) : StepCall;

    /// <summary>The record there is not this step: the code is not the code that wrote the workflow.</summary>
    public sealed record Conflict(Recorded Recorded) : StepCall;
}

internal abstract record WaitCall
{
    private WaitCall() { }

    /// <summary>This wait is recorded: it goes on (or has ended) as recorded.</summary>
    public sealed record Replay(WorkflowJournal.WaitEntry Wait) : WaitCall;

    /// <summary>Nothing is recorded: the wait begins.</summary>
    public sealed record Begin : WaitCall
    {
        public static Begin Instance { get; } = new();
    }

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

    /// <summary>Nothing is recorded at its keys: its keys are to be reserved as branches.</summary>
    public sealed record Begin : BlockCall
    {
        public static Begin Instance { get; } = new();
    }

    public sealed record Conflict(Recorded Recorded) : BlockCall;
}
