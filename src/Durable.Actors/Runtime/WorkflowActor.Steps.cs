using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using Durable.Actors.Decisions;
using Durable.Actors.Journal;
using Durable.Actors.Storage;

namespace Durable.Actors.Runtime;

// Step decisions: replay, execute, wait for a zombie to turn stale, or refuse a nondeterministic request.
internal sealed partial class WorkflowActor
{
    private void OnFailStep(FailStep fail)
    {
        if (IsCurrent(fail.RunId, fail.Reply))
            PersistEvent(new StepFailed(fail.Key, fail.Error, Now), _ => fail.Reply.TrySetResult());
    }

    private void OnBeginStep(BeginStep begin)
    {
        if (IsCurrent(begin.RunId, begin.Reply))
            DecideStep(begin.Key, begin.StepId, begin.Reply, begin.HeartbeatTimeout);
    }

    /// <summary>Decides; whatever the decision writes carries the pending completions (see <see cref="Write"/>).</summary>
    private void DecideStep(string key, string stepId, TaskCompletionSource<StepDecision> reply, TimeSpan? heartbeat)
    {
        switch (_run!.Decider.DecideStep(key, stepId, Now, _runtime.Membership?.SelfNode))
        {
            case StepCall.Conflict conflict:
                Write([], () => Violate(conflict.Recorded, stepId, $"step '{stepId}'", e => reply.TrySetException(e)));
                break;
            case StepCall.Replay replay:
                Write([], () => reply.TrySetResult(new ReplayStep(key, replay.Step.ResultJson!, replay.Step.ResultType)));
                break;
            case StepCall.Run { Started: var started }:
                if (_journal.Paused && HoldIfPaused(new DecideStepAgain(_run.Id, key, stepId, reply, heartbeat)))
                    break;
                ReachedFrontier();
                // The body may run as soon as its IN_PROGRESS record is durable (the details are an earlier attempt's).
                var execute = new ExecuteStep(key, started.Attempt, HeartbeatDetails(key));
                Write([started], static () => { }, () => reply.TrySetResult(execute));
                break;
            case StepCall.InProgress { Step: var step }:
                // The body of this very attempt returned (in a run that died since) and its completion is not durable
                // yet: it is written now, and the step replays instead of running again.
                Write([], () =>
                {
                    if (step.Status == StepStatus.Completed)
                        reply.TrySetResult(new ReplayStep(key, step.ResultJson!, step.ResultType));
                    else
                        DecideOnInProgress(step, reply, heartbeat);
                });
                break;
        }
    }

    /// <summary>
    /// Fails the call as not deterministic: <paramref name="recorded"/> is what the journal holds at the key, and
    /// <paramref name="requestedId"/> (a step id, or the kind of call) what the code asks, <paramref name="requested"/>
    /// as a sentence names it.
    /// </summary>
    private void Violate(Recorded recorded, string requestedId, string requested, Action<Exception> fail)
    {
        var violation = new WorkflowNondeterminismException(_workflowId, recorded.Key, recorded.Name, requestedId, recorded.Describe(), requested);
        _run!.Violation ??= violation;
        fail(violation);
    }

    /// <summary>An IN_PROGRESS record at the start of a step is a zombie of a crashed run, or a run elsewhere still going.</summary>
    private void DecideOnInProgress(WorkflowJournal.StepEntry step, TaskCompletionSource<StepDecision> reply, TimeSpan? heartbeat)
    {
        ReachedFrontier();
        var age = Now - step.StartedAt;
        // With a heartbeat timeout, the time since the attempt's last heartbeat (or its start, before any) decides.
        var silent = Silent(step, heartbeat);
        var staleTimeout = heartbeat ?? _runtime.Settings.StaleTimeout;
        // Orphaned: started before this host found itself alone on the database, or started by a previous
        // incarnation of this actor (a journal failure stopped it, and its run with it).
        var startedHere = _requests.StartedHere(step.Key);
        // ... whose body may still run, in this process, in the run of the stopped incarnation (a body need not observe
        // its token): it is never run beside it. Decided again when it ends: its completion, if it returned, is then
        // written and the step replays; if it threw, the step runs again as a new attempt.
        if (startedHere && _requests.BodyRunning(step.Key) is { } running)
        {
            var ended = new StepBodyEnded(new DecideStepAgain(_run!.Id, step.Key, step.StepId, reply, heartbeat));
            var actor = Self;
            running.ContinueWith(_ => actor.Tell(ended), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _run.DecidedLater.Add(step.Key);
            if (_run.Waiting.Add(step.Key))
            {
                var detail = $"IN_PROGRESS since {Format(age)} ago; the body of attempt {step.Attempts} is still running in this process "
                    + "(its run stopped with the workflow's actor), and the step waits for it to end";
                _log.Info("Step [{0}] ({1}) of workflow [{2}] is {3}", step.Key, step.StepId, _workflowId, detail);
                _runtime.Report(new StepReport(_workflowId, step.Key, step.StepId, step.Attempts, StepReportKind.Waiting, detail));
            }
            return;
        }
        // On a cluster: started by a node incarnation the cluster has removed (downed and gone), which runs nothing any
        // more. A node that is still a member (even unreachable, or leaving) may still run it: the stale timeout decides.
        var removedNode = step.Node is { } node && _runtime.Membership is { } membership
            && node != membership.SelfNode && membership.IsRemoved(node);
        var orphaned = startedHere || removedNode || _runtime.AloneSince is { } alone && step.StartedAt < alone;
        if (silent >= staleTimeout || orphaned)
        {
            if (_journal.Paused && HoldIfPaused(new DecideStepAgain(_run!.Id, step.Key, step.StepId, reply, heartbeat)))
                return;
            var reason = silent >= staleTimeout
                ? heartbeat is null
                    ? $"stale: IN_PROGRESS for {Format(age)}, older than the stale timeout {Format(staleTimeout)}"
                    : $"stale: IN_PROGRESS for {Format(age)}, no heartbeat for {Format(silent)}, longer than its heartbeat timeout {Format(staleTimeout)}"
                : startedHere
                    ? $"stale: IN_PROGRESS for {Format(age)}, left by this workflow's actor when a journal failure stopped it"
                    : removedNode
                        ? $"stale: IN_PROGRESS for {Format(age)}, left by node {step.Node}, which the cluster has removed"
                        : $"stale: IN_PROGRESS for {Format(age)}, left by a process that has ended (no other host had the database open)";
            var stale = new StepFailed(step.Key, reason, Now);
            var restarted = new StepStarted(step.Key, step.StepId, step.Attempts + 1, Now, _runtime.Membership?.SelfNode);
            _log.Warning("Step [{0}] ({1}) of workflow [{2}] is a zombie ({3}); marking it FAILED and running it again",
                step.Key, step.StepId, _workflowId, reason);
            Write([stale, restarted], () => reply.TrySetResult(new ExecuteStep(restarted.Key, restarted.Attempt, HeartbeatDetails(restarted.Key))));
            return;
        }

        var remaining = staleTimeout - silent;
        var again = new DecideStepAgain(_run!.Id, step.Key, step.StepId, reply, heartbeat);
        // Another host may end the step long before it turns stale: look at the journal now and then, not only at the
        // deadline. A timer of the clock, not of Akka's scheduler, so that tests can move time instead of waiting.
        // On a cluster, a step of another node is decided again every second: it runs at once when that node is removed.
        // Armed before the wait is reported, so that whoever sees the report can move the clock past it.
        var poll = PollsJournal || step.Node is not null && _runtime.Membership is not null;
        var interval = PollsJournal ? JournalPollInterval : MembershipPollInterval;
        var wait = poll && remaining > interval ? interval : remaining;
        var self = Self;
        _run.Timers.Add(_runtime.Clock.CreateTimer(_ => self.Tell(again), null, wait, Timeout.InfiniteTimeSpan));
        _run.DecidedLater.Add(step.Key);
        if (!_run.Waiting.Contains(step.Key))
        {
            _run.Waiting.Add(step.Key);
            var detail = heartbeat is null
                ? $"IN_PROGRESS since {Format(age)} ago; it turns stale and runs again in {Format(remaining)}"
                : $"IN_PROGRESS since {Format(age)} ago, last heartbeat {Format(silent)} ago; it turns stale and runs again in {Format(remaining)} unless a heartbeat comes";
            _log.Info("Step [{0}] ({1}) of workflow [{2}] is {3}", step.Key, step.StepId, _workflowId, detail);
            _runtime.Report(new StepReport(_workflowId, step.Key, step.StepId, step.Attempts, StepReportKind.Waiting, detail));
        }
    }

    /// <summary>How long the attempt of <paramref name="step"/> has been silent: since its start, or with a heartbeat timeout since its last heartbeat.</summary>
    private TimeSpan Silent(WorkflowJournal.StepEntry step, TimeSpan? heartbeat) =>
        Now - (heartbeat is not null && _journal.HeartbeatOf(step.Key).At is { } beat && beat > step.StartedAt ? beat : step.StartedAt);

    private string? HeartbeatDetails(string key) => _journal.HeartbeatOf(key).Details;

    /// <summary>Records a heartbeat of the attempt that runs now; one of an attempt that ended, or of an ended run, is dropped.</summary>
    private void OnRecordHeartbeat(RecordHeartbeat beat)
    {
        if (_run?.Id == beat.RunId && _journal.TryGetStep(beat.Key, out var step) && step.Status == StepStatus.InProgress && step.Attempts == beat.Attempt)
            Write([new StepHeartbeated(beat.Key, beat.Attempt, beat.At, beat.Details)], () => { });
    }

    /// <summary>How often a step waiting on another host's IN_PROGRESS record looks for that host's writes.</summary>
    private static readonly TimeSpan JournalPollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a step waiting on another cluster node's IN_PROGRESS record asks whether the cluster removed that node.</summary>
    private static readonly TimeSpan MembershipPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Whether this actor's journal is the engine's own SQLite journal, which it can read directly.</summary>
    private bool PollsJournal => _runtime.Settings.UsesEngineSqlite;

    /// <summary>
    /// Decides again on a step that waited for another host's IN_PROGRESS record, after a look at the journal when the
    /// other host may have written since: at every poll on the engine's SQLite journal while the step is young; and,
    /// on any journal (a cluster's too), before a step with a heartbeat timeout is found stale, since a heartbeat
    /// recorded after this copy of the journal was read would put that off.
    /// </summary>
    private void OnDecideStepAgain(DecideStepAgain again)
    {
        var heartbeat = again.HeartbeatTimeout;
        if (!_journal.TryGetStep(again.Key, out var step) || step.Status != StepStatus.InProgress)
        {
            DecideStep(again.Key, again.StepId, again.Reply, heartbeat);
            return;
        }
        var stale = Silent(step, heartbeat) >= (heartbeat ?? _runtime.Settings.StaleTimeout);
        if (stale ? heartbeat is null : !PollsJournal)
        {
            DecideStep(again.Key, again.StepId, again.Reply, heartbeat);
            return;
        }
        Inspection.JournalReader.WrittenSinceAsync(Context.System, PersistenceId, HighestSequenceNr, CancellationToken.None)
            .PipeTo(Self, success: moved => new JournalChecked(again, moved), failure: _ => new JournalChecked(again, false));
    }

    /// <summary>
    /// Another host wrote to this workflow while this run waited on its step: stop and let the supervisor restart this
    /// actor, which reads what the other host recorded (the step may have completed, the workflow may have ended).
    /// </summary>
    private void OnJournalChecked(JournalChecked check)
    {
        var again = check.Again;
        if (!IsCurrent(again.RunId, again.Reply))
            return;
        if (!check.Moved)
        {
            DecideStep(again.Key, again.StepId, again.Reply, again.HeartbeatTimeout);
            return;
        }
        _log.Info("Workflow [{0}]: another process wrote to its journal while step [{1}] waited; reading what it recorded",
            _workflowId, again.Key);
        _stopCause = "another process wrote to this workflow's journal";
        // Not a failure: the restart that follows does not count towards max-restarts.
        Context.Parent.Tell(BackoffSupervisor.Reset.Instance);
        Context.Stop(Self);
    }

    private sealed record JournalChecked(DecideStepAgain Again, bool Moved);

    /// <summary>The body of a step that an earlier incarnation's run started has ended: decide on the step again.</summary>
    private sealed record StepBodyEnded(DecideStepAgain Again);

    private bool IsCurrent(int runId, TaskCompletionSource reply) => IsCurrent(runId, (Action<Exception>)(e => reply.TrySetException(e)));

    private bool IsCurrent<T>(int runId, TaskCompletionSource<T> reply) => IsCurrent(runId, (Action<Exception>)(e => reply.TrySetException(e)));

    private bool IsCurrent(int runId, Action<Exception> fail)
    {
        if (_run?.Id == runId)
            return true;
        fail(new InvalidOperationException(
            $"Run {runId} of workflow '{_workflowId}' has ended: a step was called after the workflow method returned. Await every step."));
        return false;
    }
}
