using Akka.Actor;
using Akka.Event;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Step decisions: replay, execute, wait for a zombie to turn stale, or refuse a nondeterministic request.
internal sealed partial class WorkflowActor
{
    private void OnCompleteStep(CompleteStep complete)
    {
        if (IsCurrent(complete.RunId, complete.Reply))
            PersistEvent(new StepCompleted(complete.Key, complete.ResultJson, Now), _ => complete.Reply.TrySetResult());
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
        DecideStep(key, begin.StepId, begin.Reply);
    }

    private void DecideStep(string key, string stepId, TaskCompletionSource<StepDecision> reply)
    {
        if (!_journal.TryGetStep(key, out var step))
        {
            if (_journal.IsBranchKey(key))
                Violate(key, "a parallel branch", stepId, e => reply.TrySetException(e));
            else
                PersistStepStarted(key, stepId, attempt: 1, reply);
            return;
        }

        if (step.StepId != stepId)
        {
            Violate(key, step.StepId, stepId, e => reply.TrySetException(e));
            return;
        }

        switch (step.Status)
        {
            case StepStatus.Completed:
                reply.TrySetResult(new ReplayStep(key, step.ResultJson!));
                break;
            case StepStatus.Failed:
                PersistStepStarted(key, stepId, step.Attempts + 1, reply);
                break;
            case StepStatus.InProgress:
                DecideOnInProgress(step, reply);
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
        var orphaned = _runtime.AloneSince is { } alone && step.StartedAt < alone;
        if (age >= staleTimeout || orphaned)
        {
            var reason = age >= staleTimeout
                ? $"stale: IN_PROGRESS for {Format(age)}, older than the stale timeout {Format(staleTimeout)}"
                : $"stale: IN_PROGRESS for {Format(age)}, left by a process that has ended (no other host had the database open)";
            var stale = new StepFailed(step.Key, reason, Now);
            var restarted = new StepStarted(step.Key, step.StepId, step.Attempts + 1, Now);
            _log.Warning("Step [{0}] ({1}) of workflow [{2}] is a zombie ({3}); marking it FAILED and running it again",
                step.Key, step.StepId, _workflowId, reason);
            PersistAll(new IJournalEvent[] { stale, restarted }, e =>
            {
                _journal.Apply(e);
                if (e is StepStarted s)
                    reply.TrySetResult(new ExecuteStep(s.Key, s.Attempt));
            });
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

    private void PersistStepStarted(string key, string stepId, int attempt, TaskCompletionSource<StepDecision> reply) =>
        PersistEvent(new StepStarted(key, stepId, attempt, Now), _ => reply.TrySetResult(new ExecuteStep(key, attempt)));

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
