using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Pattern;
using Akka.Persistence.Journal;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

/// <summary>
/// One persistent actor per workflow: owns the step sequence counters of the current run and the step journal, and
/// starts runs of the workflow method outside its message loop. It never blocks; every record it makes is persisted
/// before the run that asked for it goes on. Requests wait in <see cref="WorkflowRequests"/>, which outlives the
/// actor: after a journal failure stopped it, the next incarnation takes them up again and the run carries on.
/// </summary>
internal sealed partial class WorkflowActor : UntypedPersistentActor
{
    public const string PersistenceIdPrefix = "workflow-";

    private readonly string _workflowId;
    private readonly WorkflowRuntime _runtime;
    private readonly WorkflowRequests _requests;
    private readonly WorkflowJournal _journal = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ActiveRun? _run;
    private int _lastRunId;
    private string? _stopCause;
    private bool _restarted;

    public WorkflowActor(string workflowId, WorkflowRuntime runtime, WorkflowRequests requests)
    {
        _workflowId = workflowId;
        _runtime = runtime;
        _requests = requests;
        _restarted = requests.StopCause is not null;
        JournalPluginId = runtime.Settings.JournalPluginId;
        SnapshotPluginId = runtime.Settings.SnapshotPluginId;
    }

    // Plain switches rather than ReceivePersistentActor's handlers, which build expression trees for every instance:
    // a cost paid once per workflow that showed in the profile of starting thousands of them.
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case IJournalEvent e:
                _journal.Apply(e);
                break;
            case RecoveryCompleted:
                // Requests a stopped incarnation left behind; the ones also in the mailbox are taken up once (Claim).
                foreach (var pending in _requests.Pending())
                    Self.Tell(pending);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case BeginStep begin:
                OnBeginStep(begin);
                break;
            case CompleteSteps complete:
                OnCompleteSteps(complete);
                break;
            case StartWorkflow start:
                if (_requests.Claim(start))
                    OnStart(start);
                break;
            case ResumeWorkflow resume:
                if (!_requests.Claim(resume))
                    return;
                if (_journal.Exists)
                    JoinOrBeginRun();
                else
                    _requests.Answer(resume, new WorkflowNotFound(_workflowId));
                break;
            case GetWorkflowStatus query:
                if (_requests.Claim(query))
                    _requests.Answer(query, _journal.Exists ? _journal.ToStatus(_workflowId) : new WorkflowNotFound(_workflowId));
                break;
            case DecideStepAgain again:
                if (IsCurrent(again.RunId, again.Reply))
                    DecideStep(again.Key, again.StepId, again.Reply, []);
                break;
            case FailStep fail:
                OnFailStep(fail);
                break;
            case RunFinished finished:
                OnRunFinished(finished);
                break;
            case BeginParallel parallel:
                OnBeginParallel(parallel);
                break;
            case Terminated terminated:
                OnBranchTerminated(terminated);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public override string PersistenceId => PersistenceIdPrefix + _workflowId;

    private DateTimeOffset Now => _runtime.Clock.GetUtcNow();

    private void OnStart(StartWorkflow start)
    {
        if (_journal.Exists)
        {
            JoinOrBeginRun();
            return;
        }

        if (!_runtime.Registry.TryGet(start.WorkflowType, out var definition))
        {
            var known = string.Join(", ", _runtime.Registry.WorkflowTypes.Order(StringComparer.Ordinal));
            _requests.Answer(start, new WorkflowRejected(_workflowId, $"unknown workflow type '{start.WorkflowType}' (registered: {known})"));
            return;
        }

        var input = start.InputJson ?? "null";
        if (definition.ValidateInput(input, _runtime.Registry.JsonOptions) is { } inputError)
        {
            _requests.Answer(start, new WorkflowRejected(_workflowId, inputError));
            return;
        }

        PersistEvent(new WorkflowStarted(start.WorkflowType, input, Now), _ => JoinOrBeginRun());
    }

    /// <summary>Every request taken up so far waits for the run: the one going on, or a new one.</summary>
    private void JoinOrBeginRun()
    {
        if (_run is not null)
            return;

        if (!_runtime.Registry.TryGet(_journal.WorkflowType!, out var definition))
        {
            _requests.AnswerClaimed(new WorkflowRejected(_workflowId,
                $"workflow type '{_journal.WorkflowType}' recorded for this workflow is not registered in this host"));
            return;
        }

        var run = new ActiveRun(++_lastRunId);
        _run = run;
        if (_journal.Status == WorkflowRunStatus.Failed)
            PersistEvent(new RunResumed(Now), _ => Begin());
        else
            Begin();

        void Begin()
        {
            var token = run.Cancellation.Token;
            var context = new WorkflowContext(_workflowId, run.Id, Self, _runtime, scope: "", token, token);
            RunAsync(definition, context, run.Id, _journal.InputJson).PipeTo(Self);
        }
    }

    private Task<RunFinished> RunAsync(IWorkflowDefinition definition, WorkflowContext context, int runId, string inputJson)
    {
        var json = _runtime.Registry.JsonOptions;
        // Task.Run: the workflow method must not run its synchronous start on the actor's thread.
        return Task.Run(async () =>
        {
            try
            {
                var result = await definition.RunAsync(context, inputJson, json).ConfigureAwait(false);
                return new RunFinished(runId, result, null, context.TakeCompletions());
            }
            catch (Exception e)
            {
                return new RunFinished(runId, null, Describe(e, context), context.TakeCompletions());
            }
        });
    }

    /// <summary>The run's error as recorded: an uncaught step failure names its step.</summary>
    private static string Describe(Exception error, WorkflowContext context) => error switch
    {
        _ when context.LastStepFailure is { } failure && ReferenceEquals(failure.Error, error) && error is not DurableActorsException =>
            $"step '{failure.StepId}' ({failure.Key}) failed: {ErrorText.Of(error)}",
        OperationCanceledException => "the run was cancelled",
        _ => ErrorText.Of(error),
    };

    private void OnRunFinished(RunFinished finished)
    {
        if (_run is not { } run || run.Id != finished.RunId)
            return;

        var write = Completions(finished.Completed);
        void Reported()
        {
            foreach (var c in finished.Completed)
                _runtime.Report(new StepReport(_workflowId, c.Key, c.StepId, c.Attempt, StepReportKind.Executed));
        }

        var violation = run.Violation;
        if (violation is null && finished.ResultJson is { } result)
        {
            if (write.Count > 0 || _journal.Status != WorkflowRunStatus.Completed || _journal.ResultJson != result)
                write.Add(new RunCompleted(result, Now));
            Write(write, () =>
            {
                Reported();
                EndRun(new WorkflowCompleted(_workflowId, result));
            });
            return;
        }

        var error = violation?.Message ?? finished.Error ?? "the run ended without a result";
        write.Add(new RunFailed(error, Now));
        Write(write, () =>
        {
            Reported();
            EndRun(new WorkflowFailed(_workflowId, error));
        });
    }

    private void EndRun(object reply)
    {
        var run = _run!;
        _run = null;
        run.Dispose();
        _requests.AnswerClaimed(reply);
    }

    /// <summary>Persists <paramref name="e"/>, applies it, then runs <paramref name="then"/>.</summary>
    private void PersistEvent<TEvent>(TEvent e, Action<TEvent> then) where TEvent : IJournalEvent =>
        Write([e], () => then(e));

    /// <summary>
    /// Persists <paramref name="events"/> in one atomic write (lifecycle events tagged), applies each, then runs
    /// <paramref name="then"/>; runs it at once when there is nothing to write.
    /// </summary>
    private void Write(IReadOnlyList<IJournalEvent> events, Action then)
    {
        if (events.Count == 0)
        {
            then();
            return;
        }
        var last = events[^1];
        PersistAll(events.Select(e => LifecycleTag.Applies(e) ? new Tagged(e, [LifecycleTag.Name]) : (object)e), persisted =>
        {
            var e = (IJournalEvent)(persisted is Tagged tagged ? tagged.Payload : persisted);
            Persisted(e);
            if (ReferenceEquals(e, last))
                then();
        });
    }

    private List<IJournalEvent> Completions(IReadOnlyList<PendingCompletion> completed) =>
        completed.Select(c => (IJournalEvent)new StepCompleted(c.Key, c.ResultJson, Now)).ToList();

    private void Persisted(IJournalEvent e)
    {
        _journal.Apply(e);
        Track(e);
        if (_restarted)
        {
            // The journal works again: later failures start a new count of restarts.
            _restarted = false;
            _requests.Progressed();
            Context.Parent.Tell(BackoffSupervisor.Reset.Instance);
        }
    }

    /// <summary>Tells the requests which steps started and ended, for the zombie check of a later incarnation.</summary>
    private void Track(IJournalEvent e)
    {
        switch (e)
        {
            case StepStarted started:
                _requests.StepStarted(started.Key);
                break;
            case StepCompleted completed:
                _requests.StepEnded(completed.Key);
                break;
            case StepFailed failed:
                _requests.StepEnded(failed.Key);
                break;
            case StepsCompletedThenStarted advanced:
                foreach (var c in advanced.Completed)
                    Track(c);
                Track(advanced.Started);
                break;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _stopCause = $"writing to the journal failed: {cause.Message}";
        _log.Error(cause, "Workflow [{0}] could not write {1} (journal sequence {2}); the actor stops and its supervisor restarts it",
            _workflowId, (@event is Tagged t ? t.Payload : @event).GetType().Name, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _stopCause = $"reading the journal failed: {reason.Message}";
        base.OnRecoveryFailure(reason, message);
    }

    protected override void PostStop()
    {
        _run?.Dispose();
        _run = null;
        if (_stopCause is { } cause)
            _requests.Release(cause);
        else
            _requests.AnswerAll(new WorkflowFailed(_workflowId,
                $"the actor of workflow '{_workflowId}' stopped (the host is shutting down); resume the workflow to go on"));
        base.PostStop();
    }

    private static string Format(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s" : $"{t.TotalMilliseconds:0}ms";

    private sealed class ActiveRun(int id) : IDisposable
    {
        private readonly Dictionary<string, int> _sequences = new(StringComparer.Ordinal);

        public int Id { get; } = id;
        public CancellationTokenSource Cancellation { get; } = new();
        public List<ITimer> Timers { get; } = [];
        public WorkflowNondeterminismException? Violation { get; set; }

        /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers in <paramref name="scope"/>; returns the first.</summary>
        public int Reserve(string scope, int count)
        {
            var first = _sequences.GetValueOrDefault(scope) + 1;
            _sequences[scope] = first + count - 1;
            return first;
        }

        public void Dispose()
        {
            Cancellation.Cancel();
            foreach (var timer in Timers)
                timer.Dispose();
            Cancellation.Dispose();
        }
    }
}
