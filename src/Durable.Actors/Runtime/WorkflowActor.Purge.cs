using Akka.Actor;
using Akka.Event;
using Akka.Pattern;

namespace Durable.Actors.Runtime;

// Purge: an ended workflow's rows (events, tags, index row) are deleted in one transaction by the journal's writer; the
// actor then stops and its next incarnation recovers nothing, so a start of the same id begins a new workflow.
internal sealed partial class WorkflowActor
{
    /// <summary>The purge under way: until it ended, every other message waits in the stash.</summary>
    private WorkflowRequest? _purging;

    private void OnPurge(WorkflowRequest request)
    {
        if (!_journal.Exists)
        {
            _requests.Answer(request, new WorkflowNotFound(_workflowId));
            return;
        }
        if (_run is not null || _journal.Status == WorkflowRunStatus.Running)
        {
            var status = _journal.Queue is not null ? "ENQUEUED" : _journal.Paused ? "PAUSED" : "RUNNING";
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' is {status}: only ended workflows (COMPLETED, FAILED, CANCELLED) are purged; nothing was changed"));
            return;
        }
        if (_journalAccess?.Current is not { } journal)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' was not purged: purging needs the engine's own journal (SQLite, or the cluster's PostgreSQL), not the journal plugin '{JournalPluginId}'"));
            return;
        }
        _purging = request;
        var self = Self;
        journal.Writer.PurgeAsync(_workflowId).ContinueWith(
            t => self.Tell(new PurgeEnded(t.Exception?.GetBaseException()), ActorRefs.NoSender),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// The purge is durable: the caller is told, and the actor stops (a restart that is no failure); the requests that
    /// came meanwhile go to its next incarnation, which finds no workflow. A failed purge deleted nothing.
    /// </summary>
    private void OnPurgeEnded(PurgeEnded ended)
    {
        var request = _purging!;
        _purging = null;
        if (ended.Error is { } error)
        {
            _log.Error(error, "Workflow [{0}] could not be purged; nothing was deleted", _workflowId);
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' was not purged: {ErrorText.Of(error)}; nothing was deleted"));
            Stash.UnstashAll();
            return;
        }
        _log.Info("Workflow [{0}] was purged", _workflowId);
        _requests.Answer(request, new WorkflowPurged(_workflowId));
        _stopCause = "the workflow was purged";
        Context.Parent.Tell(BackoffSupervisor.Reset.Instance);
        Context.Stop(Self);
    }

    private sealed record PurgeEnded(Exception? Error);
}
