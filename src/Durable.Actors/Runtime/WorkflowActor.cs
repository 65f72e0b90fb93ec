using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Pattern;
using Akka.Persistence.Journal;
using Durable.Actors.Journal;
using Durable.Actors.Observability;

namespace Durable.Actors.Runtime;

/// <summary>
/// One persistent actor per workflow: owns the step sequence counters of the current run and the step journal, and
/// starts runs of the workflow method outside its message loop. It never blocks and never runs workflow code; every
/// record it makes is persisted before the run that asked for it goes on. Requests and the completions of returned
/// step bodies wait in <see cref="WorkflowRequests"/>, which outlives the actor: after a failure stopped it, the next
/// incarnation writes those completions, takes the requests up again, and the run carries on.
/// </summary>
internal sealed partial class WorkflowActor : UntypedPersistentActor, IWithTimers
{
    /// <summary>Akka's timers of this actor (idle time); the workflow clock's timers are the run's.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    public const string PersistenceIdPrefix = "workflow-";

    private readonly string _workflowId;
    private readonly WorkflowRuntime _runtime;
    private readonly WorkflowRequests _requests;
    private readonly int _incarnation;
    private readonly IActorRef _coordinator;
    private readonly WorkflowJournal _journal = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ActiveRun? _run;
    private int _lastRunId;
    private string? _stopCause;
    private bool _restarted;

    /// <summary>The run was begun by the coordinator's wake-up (recovery, a due wait), which waits to hear of its frontier.</summary>
    private bool _wakeUpHeld;

    /// <summary>Draining for a hand-off (<see cref="DrainWorkflow"/>): nothing new begins; once drained, said once.</summary>
    private bool _draining;
    private bool _drained;

    /// <summary>The telemetry of a new workflow's first run, begun before its start is journaled (which records its span).</summary>
    private RunTelemetry? _firstRun;

    /// <summary>The span of this actor's last run, which the next run links to.</summary>
    private System.Diagnostics.ActivityContext _previousRun;

    /// <summary>
    /// The engine's journal, which this actor writes to directly (<see cref="Storage.JournalAccess"/>), decided once
    /// recovered; null on another journal plugin, written through Akka.Persistence's <c>PersistAll</c>.
    /// </summary>
    private Storage.JournalAccess? _journalAccess;

    /// <summary>The next sequence number of a direct write.</summary>
    private long _nextSequenceNr;

    /// <summary>The direct write in flight: until it is durable, every other message waits in the stash.</summary>
    private DirectWrite? _writing;

    public WorkflowActor(string workflowId, WorkflowRuntime runtime, WorkflowRequests requests, IActorRef coordinator)
    {
        _workflowId = workflowId;
        _runtime = runtime;
        _requests = requests;
        _coordinator = coordinator;
        _restarted = requests.StopCause is not null;
        _incarnation = requests.BeginIncarnation();
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
                if (JournalPluginId == Configuration.PersistencePlugins.JournalPath
                    && Storage.JournalAccess.Get(Context.System) is { Current: not null } access)
                {
                    _journalAccess = access;
                    _nextSequenceNr = LastSequenceNr + 1;
                }
                if (_requests.HandingOff)
                {
                    // An actor restarted while it drained for a hand-off drains on; its requests move with the bucket.
                    Self.Tell(DrainWorkflow.Instance);
                }
                else
                {
                    // Requests a stopped incarnation (or a passivation) left behind; the ones also in the mailbox are
                    // taken up once (Claim).
                    foreach (var pending in _requests.Pending())
                        Self.Tell(pending);
                    // A run the stopped incarnation had goes on whoever began it (a typed client's start, a signal, a
                    // cancel, a child's start are answered before the run ends): a RUNNING workflow always has a run.
                    if (_requests.RunLost)
                        Self.Tell(ResumeLostRun.Instance);
                }
                if (_runtime.Settings.PassivateAfter > TimeSpan.Zero)
                    Timers.StartSingleTimer(IdleCheck.Instance, IdleCheck.Instance, _runtime.Settings.PassivateAfter);
                else
                    Self.Tell(PassivateIfIdle.Instance);
                break;
        }
    }

    /// <summary>An exception while handling a message is a bug of ours: the supervisor stops this actor and restarts it, and the run carries on.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e) when (_stopCause is null)
        {
            _stopCause = $"an error inside the workflow's actor while it handled {message.GetType().Name}: {ErrorText.Of(e)}";
            throw;
        }
    }

    protected override void OnCommand(object message)
    {
        if (_purging is not null)
        {
            if (message is PurgeEnded ended)
                OnPurgeEnded(ended);
            else
                Stash.Stash();
            return;
        }
        if (_forking)
        {
            if (message is ForkSourceRead read)
                OnForkSourceRead(read);
            else
                Stash.Stash();
            return;
        }
        if (_writing is { } writing)
        {
            // As Akka.Persistence does while it persists: nothing else is handled until the write is durable.
            if (message is DirectWritten written && ReferenceEquals(written.Write, writing))
                OnDirectWritten(writing, written.Error);
            else
                Stash.Stash();
            return;
        }
        // Neither counts as something to do: the idle time goes on.
        switch (message)
        {
            case IdleCheck:
                CheckIdle();
                return;
            case QueryQuiet:
                Sender.Tell(AwaitsOnlyOthers());
                return;
        }
        _lastCommand = Stopwatch.GetTimestamp();
        _runtime.Hooks.BeforeCommand?.Invoke(message);
        if (_draining)
        {
            OnDraining(message);
            return;
        }
        switch (message)
        {
            case BeginStep begin:
                OnBeginStep(begin);
                break;
            case WriteCompletions write:
                Write([], () => write.Reply?.TrySetResult());
                break;
            case WorkflowRequest request:
                if (_requests.Claim(request))
                    OnRequest(request);
                break;
            case DecideStepAgain again:
                _run?.DecidedLater.Remove(again.Key);
                if (IsCurrent(again.RunId, again.Reply))
                    OnDecideStepAgain(again);
                break;
            case JournalChecked check:
                OnJournalChecked(check);
                break;
            case BeginPatch patch:
                OnBeginPatch(patch);
                break;
            case BeginTimer timer:
                OnBeginTimer(timer);
                break;
            case BeginSignalWait wait:
                OnBeginSignalWait(wait);
                break;
            case WaitDue due:
                OnWaitDue(due);
                break;
            case CancelWait cancel:
                OnCancelWait(cancel);
                break;
            case WaitUnheld unheld:
                OnWaitUnheld(unheld);
                break;
            case DeadlinePassed:
                OnDeadlinePassed();
                break;
            case PutAwayIfStillWaiting check:
                OnPutAwayIfStillWaiting(check);
                break;
            case PassivateIfIdle:
                // The coordinator stops this actor unless a request came in meanwhile.
                if (IsIdle)
                    _coordinator.Tell(new Passivate(_workflowId));
                break;
            case FailStep fail:
                OnFailStep(fail);
                break;
            case RecordHeartbeat beat:
                OnRecordHeartbeat(beat);
                break;
            case RunFinished finished:
                OnRunFinished(finished);
                break;
            case ResumeLostRun:
                if (_run is null && _requests.RunLost)
                {
                    if (_journal.Exists && _journal.Status == WorkflowRunStatus.Running)
                        JoinOrBeginRun(null);
                    else
                        _requests.RunLost = false;
                }
                break;
            case DrainWorkflow:
                _draining = true;
                _requests.HandingOff = true;
                // From now on the bodies running are all there will be: a decision on its way starts no body.
                _requests.CloseBodies();
                StopIfDrained();
                break;
            case StepBodyEnded ended:
                _run?.DecidedLater.Remove(ended.Again.Key);
                if (IsCurrent(ended.Again.RunId, ended.Again.Reply))
                    DecideStep(ended.Again.Key, ended.Again.StepId, ended.Again.Reply, ended.Again.HeartbeatTimeout);
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

    private void OnRequest(WorkflowRequest request)
    {
        switch (request.Command)
        {
            case StartWorkflow start:
                OnStart(request, start);
                break;
            case ResumeWorkflow:
                if (_journal.Exists)
                    JoinOrBeginRun(request);
                else
                    _requests.Answer(request, new WorkflowNotFound(_workflowId));
                break;
            case ContinueWorkflow:
                if (_journal.Exists && _journal.Status == WorkflowRunStatus.Running)
                {
                    // A wake-up of the coordinator's: it holds one of its few places until the run reaches its frontier.
                    _wakeUpHeld = true;
                    JoinOrBeginRun(request);
                }
                else
                    _requests.Answer(request, EndReply());
                break;
            case GetWorkflowStatus:
                _requests.Answer(request, _journal.Exists ? _journal.ToStatus(_workflowId) : new WorkflowNotFound(_workflowId));
                break;
            case SignalWorkflow signal:
                OnSignal(request, signal);
                break;
            case BeginWorkflow start:
                OnStartChild(request, start);
                break;
            case ForkWorkflow fork:
                OnFork(request, fork, traceParent: null, answerWhenBegun: false);
                break;
            case BeginFork begin:
                OnFork(request, begin.Fork, begin.TraceParent, answerWhenBegun: true);
                break;
            case ChildWorkflowEnded ended:
                // A child ends once: its end told again (a parent's ask crossed its first message) is delivered once.
                if (_journal.HasSignalDelivery(ChildSignals.For(ended.ChildId)))
                    _requests.Answer(request, new SignalDelivered(_workflowId, ChildSignals.For(ended.ChildId)));
                else
                    DeliverSignal(request, ChildSignals.For(ended.ChildId), ended.OutcomeJson, ChildSignals.For(ended.ChildId));
                break;
            case ReportToParent report:
                ReportToParentIfEnded();
                _requests.Answer(request, new ReportedToParent(_workflowId));
                // A parent waits for this child: a child left running by a crash (or put away) runs on, so that it ends.
                if (report.RunOn && _journal.Exists && _journal.Status == WorkflowRunStatus.Running)
                    JoinOrBeginRun(null);
                break;
            case ReportEnd:
                _requests.Answer(request, _journal.Exists && _journal.Status == WorkflowRunStatus.Running
                    ? new StillRunning(_workflowId)
                    : new WorkflowEnded(_workflowId, EndReply()));
                break;
            case CancelWorkflow cancel:
                OnCancel(request, cancel);
                break;
            case CancelChildWorkflow cancel:
                OnCancelAsChild(request, cancel);
                break;
            case PauseWorkflow pause:
                OnPause(request, pause);
                break;
            case UnpauseWorkflow:
                OnUnpause(request);
                break;
            case AdmitWorkflow admit:
                OnAdmit(request, admit);
                break;
            case PurgeWorkflow:
                OnPurge(request);
                // Under way: the actor stops once it is durable.
                if (_purging is not null)
                    return;
                break;
            default:
                _requests.Answer(request, new WorkflowRejected(_workflowId, $"unknown request {request.Command.GetType().Name}"));
                break;
        }
        // A request for an id that does not exist (or a rejected start) leaves nothing behind.
        if (!_journal.Exists)
            Self.Tell(PassivateIfIdle.Instance);
        else if (IsIdle)
            _coordinator.Tell(new BecameIdle(_workflowId));
    }

    private void OnStart(WorkflowRequest request, StartWorkflow start)
    {
        if (_journal.Exists)
        {
            JoinOrBeginRun(request);
            return;
        }

        if (!_runtime.Registry.TryGet(start.WorkflowType, out var definition))
        {
            var known = string.Join(", ", _runtime.Registry.WorkflowTypes.Order(StringComparer.Ordinal));
            _requests.Answer(request, new WorkflowRejected(_workflowId, $"unknown workflow type '{start.WorkflowType}' (registered: {known})"));
            return;
        }

        var input = start.InputJson ?? "null";
        if (definition.ValidateInput(input, _runtime.Registry.JsonOptions) is { } inputError)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, inputError));
            return;
        }
        if (InvalidTimeout(start.Timeout) is { } timeoutError)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, timeoutError));
            return;
        }

        _firstRun = RunTelemetry.First(_runtime, _workflowId, start.WorkflowType, start.TraceParent);
        PersistEvent(new WorkflowStarted(start.WorkflowType, input, Now, TraceParent: _firstRun.TraceParent ?? start.TraceParent,
            Deadline: DeadlineOf(start.Timeout, null)), _ =>
        {
            _firstRun?.Journaled();
            JoinOrBeginRun(request);
        });
    }

    /// <summary>
    /// Every request taken up so far waits for the run: the one going on, or a new one. A completed workflow's result
    /// is final: the request gets it and nothing runs.
    /// </summary>
    private void JoinOrBeginRun(WorkflowRequest? request)
    {
        if (_run is not null)
        {
            // A paused run held in memory (its branches wait to go on): the caller hears that it is paused, not once
            // it has been unpaused and ended.
            if (_journal.Paused && request is not null)
            {
                _wakeUpHeld = false;
                _requests.Answer(request, new WorkflowWaiting(_workflowId, _journal.PauseDescription, _journal.Deadline));
            }
            return;
        }
        _requests.RunLost = false;

        if (_journal.IsFinal)
        {
            if (request is not null)
                _requests.Answer(request, FinalReply());
            return;
        }

        // A paused workflow runs again once unpaused, or once its deadline passed (it is cancelled then).
        var timedOut = _journal.Deadline is { } due && due <= Now && !_journal.CancelRequested;
        if (_journal.Paused && !timedOut)
        {
            AnswerPaused();
            return;
        }
        if (timedOut && _journal.Queue is not null)
        {
            CancelEnqueued(null, TimedOut(_journal.Deadline!.Value), null);
            return;
        }

        if (!_runtime.Registry.TryGet(_journal.WorkflowType!, out var definition))
        {
            _requests.AnswerClaimed(new WorkflowRejected(_workflowId,
                $"workflow type '{_journal.WorkflowType}' recorded for this workflow is not registered in this host"));
            return;
        }

        var telemetry = _firstRun ?? RunTelemetry.Later(_runtime, _workflowId, _journal.WorkflowType!, _journal.TraceParent, _previousRun);
        _firstRun = null;
        _previousRun = telemetry.Span?.Context ?? default;
        var run = new ActiveRun(++_lastRunId, _runtime.Log, telemetry, new Decisions.WorkflowDecider(_workflowId, _journal));
        _run = run;
        // Completions a stopped incarnation left are written before the run decides anything on their steps; a
        // deadline that passed (while the workflow was put away, or no host ran) is a cancellation the run sees.
        List<IJournalEvent> first = [];
        if (_journal.Status == WorkflowRunStatus.Failed)
            first.Add(new RunResumed(Now));
        if (timedOut)
            first.AddRange(Cancelling(new CancelRequested(TimedOut(_journal.Deadline!.Value), Now)));
        else
            ArmDeadline();
        Write(first, Begin);

        void Begin()
        {
            // Nothing is registered on the token before the run starts: cancelling it here runs no workflow code.
            if (_journal.CancelRequested)
                run.UserCancellation.Cancel();
            // The run replays what is recorded now (the completions above included) from its own copy of the journal.
            var history = new Decisions.RunHistory(_workflowId, _journal.History());
            var context = new WorkflowContext(_workflowId, run.Id, Self, _runtime, _requests, history, _incarnation, scope: "",
                run.Cancellation.Token, run.UserCancellation.Token, run.BodyToken) { Trace = run.Telemetry };
            run.Context = context;
            RunAsync(definition, context, run.Id, _journal.InputJson).PipeTo(Self);
        }
    }

    private WorkflowCompleted Completed(string resultJson) => new(_workflowId, resultJson) { JsonOptions = _runtime.Registry.JsonOptions };

    /// <summary>How the workflow stands when it is not running: its final reply, its last failure, or not found.</summary>
    private object EndReply() => !_journal.Exists
        ? new WorkflowNotFound(_workflowId)
        : _journal.Status == WorkflowRunStatus.Failed
            ? new WorkflowFailed(_workflowId, _journal.Error ?? "failed")
            : FinalReply();

    /// <summary>The reply to a request for a workflow that ended for good.</summary>
    private object FinalReply() => _journal.Status == WorkflowRunStatus.Cancelled
        ? new WorkflowCancelled(_workflowId, _journal.CancelReason)
        : Completed(_journal.ResultJson!);

    private Task<RunFinished> RunAsync(IWorkflowDefinition definition, WorkflowContext context, int runId, string inputJson)
    {
        var json = _runtime.Registry.JsonOptions;
        // Task.Run: the workflow method must not run its synchronous start on the actor's thread.
        return Task.Run(async () =>
        {
            using var traced = context.Trace?.Enter(context.Trace.Span);
            try
            {
                var result = await definition.RunAsync(context, inputJson, json).ConfigureAwait(false);
                return new RunFinished(runId, result, null);
            }
            catch (Exception e)
            {
                return new RunFinished(runId, null, Describe(e, context));
            }
        });
    }

    /// <summary>The run's error as recorded: an uncaught step failure names its step.</summary>
    private static string Describe(Exception error, WorkflowContext context) => error switch
    {
        _ when context.LastStepFailure is { } failure && ReferenceEquals(failure.Error, error) && error is not DurableActorsException =>
            $"step '{failure.StepId}' ({failure.Key}) failed: {ErrorText.Of(error)}",
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => "the run was cancelled",
        _ => ErrorText.Of(error),
    };

    private void OnRunFinished(RunFinished finished)
    {
        if (_run is not { } run || run.Id != finished.RunId)
            return;

        var violation = run.Violation;
        if (violation is null && finished.ResultJson is { } result)
        {
            Write([new RunCompleted(result, Now)], () => EndRun(Completed(result)));
            return;
        }
        if (violation is null && _journal.CancelRequested)
        {
            var reason = _journal.CancelReason;
            Write([new RunCancelled(reason, Now)], () => EndRun(new WorkflowCancelled(_workflowId, reason)));
            return;
        }

        var error = violation?.Message ?? finished.Error ?? "the run ended without a result";
        Write([new RunFailed(error, Now)], () => EndRun(new WorkflowFailed(_workflowId, error)));
    }

    private void EndRun(object reply)
    {
        var run = _run!;
        _run = null;
        _held.Clear();
        run.Telemetry.Ended(reply, _journal.StartedAt, Now);
        _requests.AnswerClaimed(reply);
        run.Dispose();
        ReportToParentIfEnded();
        _coordinator.Tell(new WorkflowEnded(_workflowId, reply));
        if (IsIdle)
            _coordinator.Tell(new BecameIdle(_workflowId));
        if (_runtime.Settings.PassivateAfter == TimeSpan.Zero)
            Self.Tell(PassivateIfIdle.Instance);
    }

    /// <summary>
    /// While draining, only what ends what runs is handled: a step's failure, completions to write, the run's end, a
    /// branch's end. Whatever would begin something (a step, a wait, a block, a request) gets no answer: the run is let
    /// go when the actor stops, and the requests move with the hand-off.
    /// </summary>
    private void OnDraining(object message)
    {
        switch (message)
        {
            case FailStep fail:
                OnFailStep(fail);
                break;
            case RecordHeartbeat beat:
                OnRecordHeartbeat(beat);
                break;
            case WriteCompletions write:
                Write([], () => write.Reply?.TrySetResult());
                break;
            case RunFinished finished:
                OnRunFinished(finished);
                break;
            case Terminated terminated:
                OnBranchTerminated(terminated);
                break;
        }
        StopIfDrained();
    }

    /// <summary>
    /// Once no step body of this workflow runs here, writes the pending completions, and marks FAILED the steps this
    /// actor started whose bodies never began (so the new home runs them at once), then tells the coordinator.
    /// </summary>
    private void StopIfDrained()
    {
        if (_drained)
            return;
        var bodies = _requests.BodiesEnded();
        if (!bodies.IsCompleted)
        {
            var self = Self;
            bodies.ContinueWith(_ => self.Tell(DrainWorkflow.Instance), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }
        _drained = true;
        var completing = _requests.PendingCompletions().Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var unstarted = _requests.StartedHereKeys()
            .Where(key => !completing.Contains(key) && _journal.TryGetStep(key, out var step) && step.Status == StepStatus.InProgress)
            .Select(key => (IJournalEvent)new StepFailed(key, "its workflow moved to another node before this attempt's body began", Now))
            .ToList();
        Write(unstarted, () => _coordinator.Tell(new WorkflowDrained(_workflowId)));
    }

    /// <summary>
    /// The run has replayed what was recorded and now does new work or waits (a step's new attempt, a wait not due, a
    /// step of another host): a wake-up of the coordinator's frees its place then, not when the run ends, which may be
    /// days later for a wait that cannot be put away (in a parallel branch).
    /// </summary>
    private void ReachedFrontier()
    {
        if (!_wakeUpHeld)
            return;
        _wakeUpHeld = false;
        _coordinator.Tell(new WokeUp(_workflowId));
    }

    /// <summary>No run, no branch, and nothing waiting: the actor may stop and be recovered on the next request.</summary>
    private bool IsIdle => _run is null && _branches.Count == 0 && !_requests.HasWaiting;

    /// <summary>
    /// Whether nothing of this workflow goes on by itself (<see cref="QueryQuiet"/>): no completion waits to be written,
    /// and the top level and each running branch of the run await a durable wait, a retry delay, a step another host
    /// holds, or a parallel block of their own. A write under way is not seen here: the actor takes no message until it ended.
    /// </summary>
    private bool AwaitsOnlyOthers()
    {
        if (_draining || _requests.HasPendingCompletions)
            return false;
        if (_run is not { } run)
            return _branches.Count == 0;
        if (run.Context is not { } top || !Awaits(run, "", top))
            return false;
        foreach (var branch in _branches.Values)
        {
            if (!Awaits(run, ScopeOfBranch(branch.Key), branch.Context))
                return false;
        }
        return true;
    }

    private bool Awaits(ActiveRun run, string scope, WorkflowContext context)
    {
        if (context.InRetryDelay)
            return true;
        foreach (var held in _held)
        {
            if (ScopeOfKey(HeldKey(held)) == scope)
                return true;
        }
        foreach (var wait in run.Waits.Values)
        {
            if (wait.Scope == scope)
                return true;
        }
        foreach (var key in run.DecidedLater)
        {
            if (ScopeOfKey(key) == scope)
                return true;
        }
        foreach (var branch in _branches.Values)
        {
            if (ScopeOfKey(branch.Key) == scope)
                return true;
        }
        return false;
    }

    /// <summary>The scope a key was taken in: <c>"3."</c> for <c>wf:3.2</c>, empty for <c>wf:3</c>.</summary>
    private string ScopeOfKey(string key)
    {
        var rest = key.AsSpan(_workflowId.Length + 1);
        return rest[..(rest.LastIndexOf('.') + 1)].ToString();
    }

    /// <summary>The scope of the steps of the branch reserved as <paramref name="key"/>: <c>"3."</c> for <c>wf:3</c>.</summary>
    private string ScopeOfBranch(string key) => string.Concat(key.AsSpan(_workflowId.Length + 1), ".");

    /// <summary>When the last command came (a <see cref="Stopwatch"/> timestamp): the idle time passivation counts from.</summary>
    private long _lastCommand = Stopwatch.GetTimestamp();

    /// <summary>
    /// Passivation: once no command came for passivate-after and the workflow is idle, the coordinator is asked to stop
    /// this actor. One timer, re-armed for the time left, rather than Akka's receive timeout, which cancels and
    /// schedules a timer on every message (a tenth of the step throughput of many short workflows).
    /// </summary>
    private void CheckIdle()
    {
        var passivateAfter = _runtime.Settings.PassivateAfter;
        var quietFor = Stopwatch.GetElapsedTime(_lastCommand);
        if (quietFor < passivateAfter)
        {
            Timers.StartSingleTimer(IdleCheck.Instance, IdleCheck.Instance, passivateAfter - quietFor);
            return;
        }
        if (IsIdle && !_draining)
            _coordinator.Tell(new Passivate(_workflowId));
        // Asked again after another while of quiet, should the coordinator have kept this actor (a request came in).
        Timers.StartSingleTimer(IdleCheck.Instance, IdleCheck.Instance, passivateAfter);
    }

    private sealed class IdleCheck
    {
        public static IdleCheck Instance { get; } = new();

        private IdleCheck() { }
    }

    /// <summary>Asks the actor to passivate now if it is idle (itself, or the coordinator when too many idle workflows are in memory).</summary>
    internal sealed class PassivateIfIdle
    {
        public static PassivateIfIdle Instance { get; } = new();

        private PassivateIfIdle() { }
    }

    /// <summary>Sent to self after recovery when the incarnation before this one stopped with a run going (<see cref="WorkflowRequests.RunLost"/>).</summary>
    private sealed class ResumeLostRun
    {
        public static ResumeLostRun Instance { get; } = new();

        private ResumeLostRun() { }
    }

    /// <summary>Persists <paramref name="e"/>, applies it, then runs <paramref name="then"/>.</summary>
    private void PersistEvent<TEvent>(TEvent e, Action<TEvent> then) where TEvent : IJournalEvent =>
        Write([e], () => then(e));

    /// <summary>
    /// Persists the pending completions and <paramref name="events"/> in one atomic write (lifecycle events tagged),
    /// applies each, then runs <paramref name="then"/>; runs it at once when there is nothing to write.
    /// </summary>
    /// <remarks>
    /// Every write carries every completion handed over so far: a run hands a step's completion over before it asks
    /// for its next record, so the completion is never durable after it. While a write is in flight the actor takes
    /// no other message (Akka.Persistence stashes them), so no completion is carried twice.
    /// <paramref name="durable"/>, when given, runs as soon as the write is durable, before <paramref name="then"/>: on
    /// the writer's thread for a direct write, right after <see cref="DirectWritten"/> is told to this actor (so every
    /// message the run sends after it comes later in the mailbox). It answers a run, and touches nothing of the actor's.
    /// </remarks>
    private void Write(IReadOnlyList<IJournalEvent> events, Action then, Action? durable = null)
    {
        var carried = CarriedCompletions();
        var write = carried.Count == 0 ? events : WithCompletions(carried, events);
        if (write.Count == 0)
        {
            durable?.Invoke();
            then();
            return;
        }
        var last = write[^1];
        if (_journalAccess is not null)
        {
            WriteDirect(write, carried, then, durable);
            return;
        }
        PersistAll(write.Select(e => LifecycleTag.Applies(e) ? new Tagged(e, [LifecycleTag.Name]) : (object)e), persisted =>
        {
            var e = (IJournalEvent)(persisted is Tagged tagged ? tagged.Payload : persisted);
            Persisted(e);
            if (ReferenceEquals(e, last))
            {
                durable?.Invoke();
                WriteEnded(carried, then);
            }
        });
    }

    /// <summary>A write is durable and applied: its completions are done with, then what was to follow it.</summary>
    private void WriteEnded(List<PendingCompletion> carried, Action then)
    {
        _requests.RemoveCompletions(carried);
        foreach (var c in carried)
            _runtime.Report(new StepReport(_workflowId, c.Key, c.StepId, c.Attempt, StepReportKind.Executed));
        then();
    }

    /// <summary>A write handed to the engine journal's writer by this actor.</summary>
    private sealed record DirectWrite(IReadOnlyList<IJournalEvent> Events, long FirstSequenceNr, List<PendingCompletion> Carried, Action Then, Action? Durable);

    /// <summary>A direct write ended: durable, or failed with <see cref="Error"/>.</summary>
    private sealed record DirectWritten(DirectWrite Write, Exception? Error);

    /// <summary>
    /// Writes <paramref name="write"/> as Akka.Persistence's <c>PersistAll</c> would (one atomic write, the next
    /// sequence numbers, lifecycle events tagged), through the journal's writer: the events are serialized here, and
    /// the one message <see cref="DirectWritten"/> says when they are durable.
    /// </summary>
    private void WriteDirect(IReadOnlyList<IJournalEvent> write, List<PendingCompletion> carried, Action then, Action? durable)
    {
        var first = _nextSequenceNr;
        var payloads = new object[write.Count];
        for (var i = 0; i < write.Count; i++)
            payloads[i] = LifecycleTag.Applies(write[i]) ? new Tagged(write[i], [LifecycleTag.Name]) : write[i];
        List<Storage.JournalRow> rows;
        try
        {
            rows = Storage.JournalRows.From(Context.System.Serialization, PersistenceId, first, payloads, _journalAccess!.Current?.WriterUuid ?? "");
        }
        catch (Exception e)
        {
            // Akka.Persistence's rejection: nothing is written, the handlers do not run, the actor goes on.
            OnPersistRejected(e, payloads[0], first);
            return;
        }
        _nextSequenceNr += rows.Count;
        var pending = new DirectWrite(write, first, carried, then, durable);
        _writing = pending;
        var journal = _journalAccess!.Current;
        var written = journal is null
            ? Task.FromException(new InvalidOperationException("The journal is stopping; nothing was written."))
            : journal.Writer.WriteAsync(rows);
        journal?.InFlight.Track(PersistenceId, written);
        written.ContinueWith(
            static (t, state) =>
            {
                var (self, pending) = ((IActorRef, DirectWrite))state!;
                var error = t.Exception?.GetBaseException();
                self.Tell(new DirectWritten(pending, error), ActorRefs.NoSender);
                // The run goes on from here, one hop sooner than through this actor; what it sends next queues behind DirectWritten.
                if (error is null)
                    pending.Durable?.Invoke();
            },
            (Self, pending), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnDirectWritten(DirectWrite write, Exception? error)
    {
        _writing = null;
        if (error is not null)
        {
            // As Akka.Persistence does on a failed write: told, then stopped (the supervisor restarts the actor).
            var last = write.Events[^1];
            OnPersistFailure(error, LifecycleTag.Applies(last) ? new Tagged(last, [LifecycleTag.Name]) : last, write.FirstSequenceNr + write.Events.Count - 1);
            Context.Stop(Self);
            return;
        }
        foreach (var e in write.Events)
            Persisted(e);
        WriteEnded(write.Carried, write.Then);
        Stash.UnstashAll();
    }

    /// <summary>The highest sequence number this actor has written or recovered.</summary>
    private long HighestSequenceNr => _journalAccess is null ? LastSequenceNr : _nextSequenceNr - 1;

    /// <summary>
    /// The pending completions whose attempt is still the step's IN_PROGRESS one, and the recorded values whose key is
    /// still free; the others are forgotten.
    /// </summary>
    private List<PendingCompletion> CarriedCompletions()
    {
        var pending = _requests.PendingCompletions();
        if (pending.Count == 0)
            return [];
        var carried = new List<PendingCompletion>(pending.Count);
        List<PendingCompletion>? obsolete = null;
        foreach (var c in pending)
        {
            var recorded = _journal.TryGetStep(c.Key, out var step);
            if (c.Recorded ? !recorded : recorded && step.Status == StepStatus.InProgress && step.Attempts == c.Attempt)
                carried.Add(c);
            else
                (obsolete ??= []).Add(c);
        }
        if (obsolete is not null)
            _requests.RemoveCompletions(obsolete);
        return carried;
    }

    private List<IJournalEvent> WithCompletions(List<PendingCompletion> carried, IReadOnlyList<IJournalEvent> events)
    {
        var now = Now;
        var completed = carried.Select(c => new StepCompleted(c.Key, c.ResultJson, now, c.ResultType)).ToList();
        // The usual case of a sequential workflow: the previous step's completion rides with this start, in one event.
        if (events is [StepStarted started] && !carried.Exists(c => c.Recorded))
            return [new StepsCompletedThenStarted(completed, started)];
        var write = new List<IJournalEvent>(completed.Count * 2 + events.Count);
        for (var i = 0; i < carried.Count; i++)
        {
            // A recorded value has no IN_PROGRESS record: its start goes with it.
            if (carried[i].Recorded)
                write.Add(new StepStarted(carried[i].Key, carried[i].StepId, 1, now, _runtime.Membership?.SelfNode));
            write.Add(completed[i]);
        }
        write.AddRange(events);
        return write;
    }

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
        var eventName = (@event is Tagged t ? t.Payload : @event).GetType().Name;
        // Another process wrote this workflow's next event first (see "Two processes on one database"): expected and
        // handled, the restarted actor reads what it wrote. Akka.Persistence stops the actor after this method.
        if (IsConflict(cause))
            _log.Info("Workflow [{0}]: another process wrote journal sequence {1} first; the actor restarts and reads what it wrote",
                _workflowId, sequenceNr);
        else
            _log.Error(cause, "Workflow [{0}] could not write {1} (journal sequence {2}); the actor stops and its supervisor restarts it",
                _workflowId, eventName, sequenceNr);
    }

    /// <summary>
    /// Whether the write lost the journal's fence: a unique-key violation, told by its error code alone (SQLite's
    /// extended codes for a primary key or unique constraint, PostgreSQL's unique_violation), wherever the journal
    /// wrapped it.
    /// </summary>
    private static bool IsConflict(Exception cause)
    {
        for (var e = cause; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: SqliteConstraintPrimaryKey or SqliteConstraintUnique }:
                case System.Data.Common.DbException { SqlState: "23505" }:
                    return true;
            }
        }
        return false;
    }

    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _stopCause = $"reading the journal failed: {reason.Message}";
        base.OnRecoveryFailure(reason, message);
    }

    protected override void PostStop()
    {
        _runtime.Hooks.ActorStopping?.Invoke(_workflowId);
        _deadlineTimer?.Dispose();
        var hadRun = _run is not null;
        // The run's token is cancelled on the pool (ActiveRun.Dispose), never here: its callbacks are workflow code.
        _run?.Dispose();
        _run = null;
        _firstRun?.Dispose();
        _firstRun = null;
        if (_requests.Passivating)
        {
            // Stopped by the coordinator to passivate: a request that came in meanwhile waits for the next actor.
        }
        else if (_requests.HandingOff)
        {
            // Its bucket moves to another node: the coordinator hands the requests to the workflow's new home.
        }
        else if (_stopCause is { } cause)
            _requests.Release(cause, hadRun);
        else
        {
            if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null)
                WriteCompletionsOnShutdown();
            _requests.AnswerAll(new WorkflowFailed(_workflowId,
                $"the actor of workflow '{_workflowId}' stopped (the host is shutting down); resume the workflow to go on"));
        }
        base.PostStop();
    }

    /// <summary>
    /// The host shuts down: the completions of step bodies that returned, not written yet (they wait for the run's next
    /// record, or for the idle flush), are handed to the journal's writer, which commits what was queued before the
    /// host ends; so a graceful stop never runs a completed step again. A write in flight carries its own.
    /// </summary>
    private void WriteCompletionsOnShutdown()
    {
        if (_journalAccess?.Current is not { } journal)
            return;
        var carried = CarriedCompletions();
        if (_writing is { } inFlight)
            carried.RemoveAll(inFlight.Carried.Contains);
        if (carried.Count == 0)
            return;
        var events = WithCompletions(carried, []);
        var rows = Storage.JournalRows.From(Context.System.Serialization, PersistenceId, _nextSequenceNr, [.. events], journal.WriterUuid);
        _nextSequenceNr += rows.Count;
        var written = journal.Writer.WriteAsync(rows);
        journal.InFlight.Track(PersistenceId, written);
        // No one awaits it: the actor is gone; a failure is the journal's to log.
        written.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static string Format(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s" : $"{t.TotalMilliseconds:0}ms";

    private sealed class ActiveRun(int id, ILoggingAdapter log, RunTelemetry telemetry, Decisions.WorkflowDecider decider) : IDisposable
    {
        public int Id { get; } = id;

        /// <summary>What the journal says of each call the run brings, at the key the run took (see <see cref="Decisions.RunHistory"/>).</summary>
        public Decisions.WorkflowDecider Decider { get; } = decider;

        /// <summary>The run's span, waits and phase (Observability); ended with the run.</summary>
        public RunTelemetry Telemetry { get; } = telemetry;

        /// <summary>Cancelled when the run ends or its actor stops: every wait of the run on the actor observes it.</summary>
        public CancellationTokenSource Cancellation { get; } = new();

        /// <summary>Cancelled when the workflow is cancelled on request.</summary>
        public CancellationTokenSource UserCancellation { get; } = new();

        private CancellationTokenSource? _body;

        /// <summary>The token step bodies and workflow code get: either of the two above.</summary>
        public CancellationToken BodyToken => (_body ??= CancellationTokenSource.CreateLinkedTokenSource(Cancellation.Token, UserCancellation.Token)).Token;

        public List<ITimer> Timers { get; } = [];

        /// <summary>The context of the run's top-level code, once it began.</summary>
        public WorkflowContext? Context { get; set; }

        /// <summary>The durable waits (timers, signal waits) the run's code awaits, by key, in the order they began.</summary>
        public Dictionary<string, PendingWait> Waits { get; } = new(StringComparer.Ordinal);

        /// <summary>Steps this run waits on (an IN_PROGRESS record of another host), reported once each.</summary>
        public HashSet<string> Waiting { get; } = new(StringComparer.Ordinal);

        /// <summary>Steps whose decision waits now: for a timer, or for the end of a body still running from an earlier incarnation.</summary>
        public HashSet<string> DecidedLater { get; } = new(StringComparer.Ordinal);
        public WorkflowNondeterminismException? Violation { get; set; }

        /// <summary>
        /// Cancels the run's token off the actor's thread: cancelling runs every callback registered on the token, which
        /// is workflow code (catch and finally blocks, token registrations) that must never run on or block the actor.
        /// </summary>
        public void Dispose()
        {
            Abandon();
            Telemetry.Dispose();
            Cancel(Cancellation);
        }

        /// <summary>
        /// Cancels the workflow's token (a cancellation on request) off the actor's thread, then fails
        /// <paramref name="waits"/>: the code they wake sees the token cancelled.
        /// </summary>
        public void CancelOnPool(IReadOnlyList<PendingWait> waits) => Cancel(UserCancellation, () =>
        {
            foreach (var wait in waits)
            {
                wait.Fired?.TrySetCanceled();
                wait.Signalled?.TrySetCanceled();
            }
        });

        /// <summary>
        /// Lets the run go without ending its code: it awaits a wait that will never answer, and it is collected with
        /// it, so no code after the wait (a finally block) runs in this run. A later run replays up to the wait.
        /// </summary>
        public void Abandon()
        {
            foreach (var timer in Timers)
                timer.Dispose();
            Timers.Clear();
        }

        private void Cancel(CancellationTokenSource source, Action? then = null) => _ = Task.Run(() =>
        {
            try
            {
                source.Cancel();
            }
            catch (AggregateException e)
            {
                log.Warning("A cancellation callback of run {0} threw: {1}", Id, e.InnerException?.Message ?? e.Message);
            }
            then?.Invoke();
        });
    }
}
