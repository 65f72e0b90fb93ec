using Akka.Actor;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Queues: an enqueued workflow is written with its start as paused by its queue (RunPaused.Queue), so that none of its
// code runs and it is put away at once; its queue's dispatcher admits it (AdmitWorkflow: RunUnpaused) when a slot and
// the rate limit allow. A cancellation before that ends it cancelled without running it.
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
            JoinOrBeginRun(null);
        });
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
