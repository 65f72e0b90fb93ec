using Durable.Actors.Journal;

namespace Durable.Actors.Decisions;

/// <summary>
/// What one run of a workflow's code replays from without asking its actor: the journal as it stood when the run
/// began (a copy: the actor goes on applying events to its own), and the run's keys, taken in call order per scope by
/// the decider's rules. A call whose record lets it replay (a completed step, an ended wait, a patch decided by what
/// is recorded) returns at once; any other call goes to the actor with its key, and the actor decides there on the
/// journal as it stands. Shared by the run's top-level context and its branches, each of which calls in its own scope.
/// </summary>
/// <remarks>
/// The copy can stand in for the journal at every key the run has not reached: only the run writes records at its keys
/// (another host's write stops the actor, and its run with it).
/// </remarks>
internal sealed class RunHistory(string workflowId, WorkflowJournal history)
{
    private readonly object _gate = new();

    /// <summary>The workflow's deadline, which its children inherit.</summary>
    public DateTimeOffset? Deadline => history.Deadline;
    private readonly WorkflowDecider _decider = new(workflowId, history);

    /// <summary>
    /// The key of a step <paramref name="stepId"/> called in <paramref name="scope"/>, and its record when it completed
    /// there (it replays); null when the actor decides.
    /// </summary>
    public string NextStep(string scope, string stepId, out WorkflowJournal.StepEntry? completed) =>
        NextStep(scope, stepId, out completed, out _);

    /// <summary>As <see cref="NextStep(string, string, out WorkflowJournal.StepEntry?)"/>; <paramref name="free"/>: nothing at all is recorded at the key.</summary>
    public string NextStep(string scope, string stepId, out WorkflowJournal.StepEntry? completed, out bool free)
    {
        lock (_gate)
        {
            var key = _decider.Key(scope, _decider.Reserve(scope, 1));
            completed = _decider.Completed(key, stepId);
            free = completed is null && _decider.IsFree(key);
            return key;
        }
    }

    /// <summary>
    /// The key of a timer (<paramref name="signalName"/> null) or signal wait called in <paramref name="scope"/>, and its
    /// record when it ended or was cancelled there (it replays so); null when the actor decides.
    /// </summary>
    public string NextWait(string scope, string? signalName, out WorkflowJournal.WaitEntry? closed)
    {
        lock (_gate)
        {
            var key = _decider.Key(scope, _decider.Reserve(scope, 1));
            closed = _decider.Closed(key, signalName);
            return key;
        }
    }

    /// <summary>
    /// The keys of a race of <paramref name="count"/> branches called in <paramref name="scope"/>: the branches', then the
    /// key its winner is recorded at, with the winner's record when there is one.
    /// </summary>
    public (IReadOnlyList<string> Branches, string Winner) NextRace(string scope, int count, string winnerStepId,
        out WorkflowJournal.StepEntry? recorded, out bool free)
    {
        lock (_gate)
        {
            var first = _decider.Reserve(scope, count);
            var keys = new string[count];
            for (var i = 0; i < count; i++)
                keys[i] = _decider.Key(scope, first + i);
            var winner = _decider.Key(scope, _decider.Reserve(scope, 1));
            recorded = _decider.Completed(winner, winnerStepId);
            free = recorded is null && _decider.IsFree(winner);
            return (keys, winner);
        }
    }

    /// <summary>The keys of a parallel block's <paramref name="count"/> branches called in <paramref name="scope"/>.</summary>
    public IReadOnlyList<string> NextBlock(string scope, int count)
    {
        lock (_gate)
        {
            var first = _decider.Reserve(scope, count);
            var keys = new string[count];
            for (var i = 0; i < count; i++)
                keys[i] = _decider.Key(scope, first + i);
            return keys;
        }
    }

    /// <summary>A patch called in <paramref name="scope"/>: decided by what is recorded; a new marker is for the actor to write.</summary>
    public PatchDecision Patch(string scope, string patchId, DateTimeOffset now)
    {
        lock (_gate)
            return _decider.DecidePatch(scope, patchId, now);
    }
}
