using Akka.Actor;
using Akka.Event;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Pause: a paused workflow begins no new operation. The run goes on up to its next one (a step or attempt to start, a
// wait to begin, a due timer to fire, a signal to take), which is held here until the pause ends; a run held at the
// top level alone is put away, as a long wait is. Unpausing lets every held operation go, in the order it came.
internal sealed partial class WorkflowActor
{
    /// <summary>What the run asked while the workflow was paused, to be decided once it is unpaused.</summary>
    private readonly List<object> _held = [];

    private void OnPause(WorkflowRequest request, PauseWorkflow pause)
    {
        if (NotRunning(request, "paused") || Enqueued(request, "paused"))
            return;
        if (_journal.Paused)
        {
            _requests.Answer(request, new WorkflowPaused(_workflowId));
            return;
        }
        if (_journal.CancelRequested)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' is being cancelled (its cancellation ends a pause); nothing was changed"));
            return;
        }
        Write([new RunPaused(pause.Reason, Now, _journal.Deadline)], () =>
        {
            _log.Info("Workflow [{0}] is paused{1}", _workflowId, pause.Reason is { } reason ? $": {reason}" : "");
            _requests.Answer(request, new WorkflowPaused(_workflowId));
            PutAwayIfPaused();
        });
    }

    private void OnUnpause(WorkflowRequest request)
    {
        if (NotRunning(request, "unpaused") || Enqueued(request, "unpaused"))
            return;
        if (!_journal.Paused)
        {
            _requests.Answer(request, new WorkflowUnpaused(_workflowId));
            return;
        }
        Write([new RunUnpaused(Now)], () =>
        {
            _log.Info("Workflow [{0}] is unpaused", _workflowId);
            _requests.Answer(request, new WorkflowUnpaused(_workflowId));
            ReleaseHeld();
            if (_run is null && _journal.Status == WorkflowRunStatus.Running)
                JoinOrBeginRun(null);
        });
    }

    /// <summary>Answers a pause or unpause of a workflow that does not exist or does not run (ended, or failed); true then.</summary>
    private bool NotRunning(WorkflowRequest request, string what)
    {
        if (!_journal.Exists)
        {
            _requests.Answer(request, new WorkflowNotFound(_workflowId));
            return true;
        }
        if (_journal.Status == WorkflowRunStatus.Running)
            return false;
        _requests.Answer(request, new WorkflowRejected(_workflowId,
            $"workflow '{_workflowId}' is not running ({_journal.Status.ToString().ToUpperInvariant()}); it was not {what}"));
        return true;
    }

    /// <summary>
    /// Holds <paramref name="message"/> (an operation the run asked to begin) while the workflow is paused; false when it
    /// is not. The completions handed over so far are written at once: a step that ended is recorded.
    /// </summary>
    private bool HoldIfPaused(object message)
    {
        if (!_journal.Paused)
            return false;
        _held.Add(message);
        ReachedFrontier();
        Write([], PutAwayIfPaused);
        return true;
    }

    /// <summary>The events of a cancellation: a paused workflow is unpaused with it, so that its cleanup code runs.</summary>
    private IJournalEvent[] Cancelling(CancelRequested cancel) => _journal.Paused ? [cancel, new RunUnpaused(Now)] : [cancel];

    /// <summary>The pause ended: the held operations are asked again, and waits that came due or got their signal meanwhile end.</summary>
    private void ReleaseHeld()
    {
        foreach (var message in _held)
            Self.Tell(message);
        _held.Clear();
        if (_run is not { } run)
            return;
        foreach (var wait in run.Waits.Values.OrderBy(w => w.Key, StepKeys.Comparer))
            Self.Tell(new WaitUnheld(run.Id, wait.Key));
    }

    /// <summary>A wait of the run, looked at again once the pause ended: it ends if its signal came or its time is due.</summary>
    private void OnWaitUnheld(WaitUnheld unheld)
    {
        if (_journal.Paused || _run is not { } run || run.Id != unheld.RunId || !run.Waits.TryGetValue(unheld.Key, out var wait))
            return;
        if (wait.SignalName is { } name && _journal.NextSignal(name) is { } payload)
            EndSignalWait(wait, payload);
        else if (wait.DueAt is { } due && due <= Now)
            EndWaitOnTime(wait);
        else
        {
            // Put away once it has waited for the idle time, as any wait (a later due time's timer is armed already).
            var check = new PutAwayIfStillWaiting(run.Id, wait.Key);
            Timers.StartSingleTimer(check, check, _runtime.Settings.PassivateAfter);
        }
    }

    private sealed record WaitUnheld(int RunId, string Key);

    /// <summary>
    /// A paused run whose code is held here at its top level alone (no branch, no step decided later, nothing left to
    /// write) is let go, as a long wait's is: a later run replays up to where it stopped. Its callers hear that it waits.
    /// </summary>
    private void PutAwayIfPaused()
    {
        if (!_journal.Paused || _run is not { } run || _branches.Count > 0 || run.DecidedLater.Count > 0 || _requests.HasPendingCompletions)
            return;
        if (_held.Count == 0 && run.Waits.Count == 0)
            return;
        var what = _journal.PauseDescription;
        _log.Info("Workflow [{0}] is {1}: put away until then", _workflowId, what);
        _run = null;
        run.Abandon();
        _held.Clear();
        run.Telemetry.PutAway(what);
        AnswerPaused();
    }

    /// <summary>Answers the callers of a paused workflow that runs no more (<see cref="WorkflowWaiting"/>); its deadline wakes it.</summary>
    private void AnswerPaused()
    {
        _wakeUpHeld = false;
        _requests.AnswerClaimed(new WorkflowWaiting(_workflowId, _journal.PauseDescription, _journal.Deadline));
        if (_journal.Deadline is { } deadline)
            _coordinator.Tell(new WakeAt(_workflowId, deadline));
        Self.Tell(PassivateIfIdle.Instance);
    }

    /// <summary>The key an operation held while paused asks about (<see cref="AwaitsOnlyOthers"/>).</summary>
    private static string HeldKey(object message) => message switch
    {
        DecideStepAgain again => again.Key,
        BeginTimer timer => timer.Key,
        BeginSignalWait wait => wait.Key,
        _ => throw new InvalidOperationException($"Unexpected held message {message.GetType().Name}."),
    };
}
