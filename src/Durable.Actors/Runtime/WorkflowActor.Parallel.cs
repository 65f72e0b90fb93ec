using Akka.Actor;
using Akka.Event;
using Durable.Actors.Decisions;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Parallel blocks and races: reserve one sequence number per branch (journaled), then run each branch in a child actor.
internal sealed partial class WorkflowActor
{
    private readonly Dictionary<IActorRef, ParallelBranch> _branches = [];
    private readonly Dictionary<string, Exception> _branchErrors = new(StringComparer.Ordinal);
    private long _branchActors;

    private void OnBeginParallel(BeginParallel begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var keys = begin.Keys;
        var block = $"a parallel block of {keys.Count} branches";
        void Fail(Exception e) => Write([], () => begin.Reply.TrySetException(e));

        switch (_run!.Decider.DecideBlock(keys, Now))
        {
            case BlockCall.Replay:
                Write([], () => StartBranches(begin, keys));
                break;
            case BlockCall.Conflict conflict:
                Violate(conflict.Recorded, block, block, Fail);
                break;
            case BlockCall.Begin { Reserved: var reserved }:
                Write([reserved], () => StartBranches(begin, keys));
                break;
        }
    }

    private void StartBranches(BeginParallel begin, IReadOnlyList<string> keys)
    {
        var branches = new List<ParallelBranch>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            var scope = ScopeOfBranch(keys[i]);
            var branch = new ParallelBranch(keys[i], i + 1, begin.Parent.ForBranch(scope, begin.BranchTokens[i]),
                new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously), begin.Race);
            var body = begin.Branches[i];
            var child = Context.ActorOf(ActorProps.Of(() => new BranchActor(branch, body)), $"branch-{++_branchActors}");
            Context.Watch(child);
            _branches[child] = branch;
            branches.Add(branch);
        }
        begin.Reply.TrySetResult(branches);
    }

    /// <summary>
    /// A branch that throws crashes its actor; this strategy stops it and keeps the error for the block, which reports
    /// it (so the crash is not logged twice).
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        if (error is BranchFailedException failed)
            _branchErrors[failed.BranchKey] = failed.InnerException!;
        else
            _log.Error(error, "A branch actor of workflow [{0}] crashed", _workflowId);
        return Directive.Stop;
    }, loggingEnabled: false);

    /// <summary>
    /// Stops the branch actors of a run that is put away, without ending their branches: their code awaits waits that
    /// never answer, as the top-level code does (see <see cref="PutAway"/>).
    /// </summary>
    private void AbandonBranches()
    {
        foreach (var actor in _branches.Keys)
        {
            Context.Unwatch(actor);
            Context.Stop(actor);
        }
        _branches.Clear();
        _branchErrors.Clear();
    }

    private void OnBranchTerminated(Terminated terminated)
    {
        if (!_branches.Remove(terminated.ActorRef, out var branch))
            return;
        var error = _branchErrors.Remove(branch.Key, out var thrown)
            ? thrown
            : new InvalidOperationException($"The actor of branch {branch.Key} stopped before its branch ended.");
        branch.Completion.TrySetException(error);
    }
}
