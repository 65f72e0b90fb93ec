using Akka.Actor;
using Akka.Event;
using Durable.Actors.Decisions;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Observability;

namespace Durable.Actors.Runtime;

// Fork: the actor of the new id reads the source's events from the database (the source has ended: its journal no
// longer changes), plans the new workflow's first events (Decisions/ForkPlan) and writes them in one atomic write, so
// that a crash leaves the new workflow whole or absent; then it runs like any workflow, replaying what was carried.
internal sealed partial class WorkflowActor
{
    /// <summary>Whether the source of a fork is being read: until it was, every other message waits in the stash.</summary>
    private bool _forking;

    private void OnFork(WorkflowRequest request, ForkWorkflow fork, string? traceParent, bool answerWhenBegun)
    {
        if (_journal.Exists)
        {
            // The same fork sent again (a retry after a lost reply, a crash after the write) joins the new workflow.
            if (_journal.ForkedFrom != fork.SourceId || _journal.ForkedFromKey != ForkPlan.KeyOf(fork.SourceId, fork.From))
            {
                _requests.Answer(request, new WorkflowRejected(_workflowId,
                    $"workflow '{_workflowId}' exists already: fork to an id that does not exist; nothing was changed"));
            }
            else if (answerWhenBegun)
            {
                _requests.Answer(request, new WorkflowBegun(_workflowId));
                if (_journal.Status == WorkflowRunStatus.Running)
                    JoinOrBeginRun(null);
            }
            else
            {
                JoinOrBeginRun(request);
            }
            return;
        }
        if (string.IsNullOrWhiteSpace(fork.SourceId))
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, "no source workflow was given to fork"));
            return;
        }
        if (InvalidTimeout(fork.Timeout) is { } timeoutError)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, timeoutError));
            return;
        }
        _forking = true;
        var self = Self;
        var read = new ForkSourceRead(request, fork, traceParent, answerWhenBegun);
        JournalReader.GetEventsAsync(Context.System, fork.SourceId, CancellationToken.None).ContinueWith(
            t => self.Tell(t.IsCompletedSuccessfully ? read with { Events = t.Result } : read with { Error = t.Exception!.GetBaseException() }, ActorRefs.NoSender),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnForkSourceRead(ForkSourceRead read)
    {
        _forking = false;
        Stash.UnstashAll();
        var (request, fork) = (read.Request, read.Fork);
        if (read.Error is { } error)
        {
            _log.Error(error, "The source [{0}] of the fork [{1}] could not be read", fork.SourceId, _workflowId);
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"source workflow '{fork.SourceId}' could not be read: {ErrorText.Of(error)}"));
            return;
        }
        var (events, refusal) = ForkPlan.Plan(fork.SourceId, read.Events!, fork.From, _workflowId, fork.InputJson, Now,
            DeadlineOf(fork.Timeout, null), read.TraceParent);
        if (refusal is not null)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, refusal));
            return;
        }
        var started = (WorkflowStarted)events![0];
        if (!_runtime.Registry.TryGet(started.WorkflowType, out var definition))
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow type '{started.WorkflowType}' recorded for '{fork.SourceId}' is not registered in this host"));
            return;
        }
        if (definition.ValidateInput(started.InputJson, _runtime.Registry.JsonOptions) is { } inputError)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, inputError));
            return;
        }
        _firstRun = RunTelemetry.First(_runtime, _workflowId, started.WorkflowType, read.TraceParent);
        List<IJournalEvent> write = [started with { TraceParent = _firstRun.TraceParent ?? read.TraceParent }, .. events.Skip(1)];
        Write(write, () =>
        {
            _firstRun?.Journaled();
            _log.Info("Workflow [{0}] was forked from [{1}] {2}, carrying {3} records", _workflowId, fork.SourceId,
                started.ForkedFromKey is { } key ? $"at {key}" : "from the top", write.Count - 1);
            if (read.AnswerWhenBegun)
            {
                _requests.Answer(request, new WorkflowBegun(_workflowId));
                JoinOrBeginRun(null);
            }
            else
            {
                JoinOrBeginRun(request);
            }
        });
    }

    /// <summary>The source's events were read (<see cref="Events"/>), or could not be (<see cref="Error"/>).</summary>
    private sealed record ForkSourceRead(WorkflowRequest Request, ForkWorkflow Fork, string? TraceParent, bool AnswerWhenBegun)
    {
        public IReadOnlyList<IJournalEvent>? Events { get; init; }

        public Exception? Error { get; init; }
    }
}
