using Akka.Actor;
using Akka.Event;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Step decisions: replay, execute, wait for a zombie to turn stale, or refuse a nondeterministic request.
internal sealed partial class WorkflowActor
{
    private void OnCompleteSteps(CompleteSteps complete)
    {
        // Also after its run ended: an idle flush may arrive just after the run's end, and the steps did complete.
        if (complete.RunId == _lastRunId || IsCurrent(complete.RunId, complete.Reply))
            Write(Completions(complete.Completed), () => complete.Reply.TrySetResult());
    }

    private void OnFailStep(FailStep fail)
    {
        if (IsCurrent(fail.RunId, fail.Reply))
            PersistEvent(new StepFailed(fail.Key, fail.Error, Now), _ => fail.Reply.TrySetResult());
    }

    private void OnBeginStep(BeginStep begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var key = StepKeys.Of(_workflowId, begin.Scope, _run!.Reserve(begin.Scope, 1));
        DecideStep(key, begin.StepId, begin.Reply, Completions(begin.Completed));
    }

    /// <summary>Decides, and writes <paramref name="write"/> (completions carried by the request) with what the decision records.</summary>
    private void DecideStep(string key, string stepId, TaskCompletionSource<StepDecision> reply, List<IJournalEvent> write)
    {
        if (!_journal.TryGetStep(key, out var step))
        {
            if (_journal.IsBranchKey(key))
                Write(write, () => Violate(key, "a parallel branch", stepId, e => reply.TrySetException(e)));
            else
                WriteStepStarted(key, stepId, attempt: 1, reply, write);
            return;
        }

        if (step.StepId != stepId)
        {
            Write(write, () => Violate(key, step.StepId, stepId, e => reply.TrySetException(e)));
            return;
        }

        switch (step.Status)
        {
            case StepStatus.Completed:
                Write(write, () => reply.TrySetResult(new ReplayStep(key, step.ResultJson!)));
                break;
            case StepStatus.Failed:
                WriteStepStarted(key, stepId, step.Attempts + 1, reply, write);
                break;
            case StepStatus.InProgress:
                Write(write, () => DecideOnInProgress(step, reply));
                break;
        }
    }

    private void Violate(string key, string recorded, string requested, Action<Exception> fail)
    {
        var violation = new WorkflowNondeterminismException(_workflowId, key, recorded, requested);
        _run!.Violation ??= violation;
        fail(violation);
    }

    /// <summary>An IN_PROGRESS record at the start of a step is a zombie of a crashed run, or a run elsewhere still going.</summary>
    private void DecideOnInProgress(WorkflowJournal.StepEntry step, TaskCompletionSource<StepDecision> reply)
    {
        var age = Now - step.StartedAt;
        var staleTimeout = _runtime.Settings.StaleTimeout;
        // Orphaned: started before this host found itself alone on the database, or started by a previous
        // incarnation of this actor (a journal failure stopped it, and its run with it).
        var startedHere = _requests.StartedHere(step.Key);
        var orphaned = startedHere || _runtime.AloneSince is { } alone && step.StartedAt < alone;
        if (age >= staleTimeout || orphaned)
        {
            var reason = age >= staleTimeout
                ? $"stale: IN_PROGRESS for {Format(age)}, older than the stale timeout {Format(staleTimeout)}"
                : startedHere
                    ? $"stale: IN_PROGRESS for {Format(age)}, left by this workflow's actor when a journal failure stopped it"
                    : $"stale: IN_PROGRESS for {Format(age)}, left by a process that has ended (no other host had the database open)";
            var stale = new StepFailed(step.Key, reason, Now);
            var restarted = new StepStarted(step.Key, step.StepId, step.Attempts + 1, Now);
            _log.Warning("Step [{0}] ({1}) of workflow [{2}] is a zombie ({3}); marking it FAILED and running it again",
                step.Key, step.StepId, _workflowId, reason);
            Write([stale, restarted], () => reply.TrySetResult(new ExecuteStep(restarted.Key, restarted.Attempt)));
            return;
        }

        var remaining = staleTimeout - age;
        var detail = $"IN_PROGRESS since {Format(age)} ago; it turns stale and runs again in {Format(remaining)}";
        _log.Info("Step [{0}] ({1}) of workflow [{2}] is {3}", step.Key, step.StepId, _workflowId, detail);
        _runtime.Report(new StepReport(_workflowId, step.Key, step.StepId, step.Attempts, StepReportKind.Waiting, detail));
        // A timer of the clock, not of Akka's scheduler, so that tests can move time instead of waiting.
        var self = Self;
        var again = new DecideStepAgain(_run!.Id, step.Key, step.StepId, reply);
        _run.Timers.Add(_runtime.Clock.CreateTimer(_ => self.Tell(again), null, remaining, Timeout.InfiniteTimeSpan));
    }

    private void WriteStepStarted(string key, string stepId, int attempt, TaskCompletionSource<StepDecision> reply, List<IJournalEvent> write)
    {
        var started = new StepStarted(key, stepId, attempt, Now);
        // The usual case of a sequential workflow: the previous step's completion rides with this start, in one event.
        if (write.Count > 0 && write.All(e => e is StepCompleted))
            write = [new StepsCompletedThenStarted(write.Cast<StepCompleted>().ToList(), started)];
        else
            write.Add(started);
        Write(write, () => reply.TrySetResult(new ExecuteStep(key, attempt)));
    }

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
