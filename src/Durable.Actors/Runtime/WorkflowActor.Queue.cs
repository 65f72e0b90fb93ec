using Akka.Actor;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Queues: an enqueued workflow is written with its start as paused by its queue (RunPaused.Queue), so that none of its
// code runs and it is put away at once; its queue's dispatcher admits it (AdmitWorkflow: RunUnpaused) when a slot and
// the rate limit allow. A cancellation before that ends it cancelled without running it. A workflow of a queue that
// releases slots while sleeping gives its slot back when it is put away for a long sleep: written held by its queue
// again (RunPaused.Queue), it goes on when the queue admits it, which it does once the timer is due.
internal sealed partial class WorkflowActor
{
    private void OnAdmit(WorkflowRequest request, AdmitWorkflow admit)
    {
        if (!_journal.Exists)
        {
            _requests.Answer(request, new WorkflowNotFound(_workflowId));
            return;
        }
        if (_journal.Status != WorkflowRunStatus.Running)
        {
            _requests.Answer(request, EndReply());
            return;
        }
        if (_journal.Queue is null)
        {
            // Admitted before (a dispatcher's admission asked again after a crash), or started without a queue.
            _requests.Answer(request, new WorkflowAdmitted(_workflowId));
            return;
        }
        var input = admit.InputJson is { } last && last != _journal.InputJson ? last : null;
        Write([new RunUnpaused(Now, input)], () =>
        {
            _requests.Answer(request, new WorkflowAdmitted(_workflowId));
            // A run still held here since it released its slot looks at its waits again (due by now).
            ReleaseHeld();
            JoinOrBeginRun(null);
        });
    }

    /// <summary>
    /// The run, put away for a long sleep (timers only: a signal or a child may come at any time), gives its slot back
    /// when its queue releases slots while sleeping: written held by its queue, its dispatcher told to admit it again
    /// once the earliest timer is due, then put away; false when it keeps its slot.
    /// </summary>
    private bool ReleaseSlot(ActiveRun run)
    {
        if (_journal.AdmittedFrom is not { } queue || !_runtime.ReleasesSlot(queue) || _journal.Paused || _journal.CancelRequested
            || run.Waits.Values.Any(w => w.SignalName is not null || w.DueAt is null))
            return false;
        var wakeAt = EarliestDue(run);
        Write([new RunPaused($"sleeping with its slot of queue '{queue}' released", Now, _journal.Deadline, queue)], () =>
        {
            _runtime.QueueDispatcher.Tell(new SlotReleased(_workflowId, wakeAt));
            PutAwayIfPaused();
        });
        return true;
    }

    /// <summary>Answers a pause or unpause of an enqueued workflow, which its queue alone lets go; true then.</summary>
    private bool Enqueued(WorkflowRequest request, string what)
    {
        if (_journal.Queue is not { } queue)
            return false;
        _requests.Answer(request, new WorkflowRejected(_workflowId,
            $"workflow '{_workflowId}' is ENQUEUED on queue '{queue}' and starts when the queue admits it; it was not {what}"));
        return true;
    }

    /// <summary>An enqueued workflow is cancelled (on request, or at its deadline) without running any of its code.</summary>
    private void CancelEnqueued(WorkflowRequest? request, string? reason, string? deliveryId)
    {
        Write([new CancelRequested(reason, Now, deliveryId), new RunUnpaused(Now), new RunCancelled(reason, Now)], () =>
        {
            if (request is not null)
                _requests.Answer(request, new CancellationRequested(_workflowId));
            var reply = new WorkflowCancelled(_workflowId, reason);
            _requests.AnswerClaimed(reply);
            _coordinator.Tell(new WorkflowEnded(_workflowId, reply), Self);
            _runtime.QueueDispatcher.Tell(new EnqueuedWorkflowCancelled(_workflowId));
            Self.Tell(PassivateIfIdle.Instance, Self);
        });
    }
}
