using Akka.Actor;
using Akka.Event;
using Durable.Actors.Decisions;
using Durable.Actors.Journal;
using Durable.Actors.Observability;

namespace Durable.Actors.Runtime;

// Durable waits: timers and signal waits take the next key of their scope like a step, journal when they end, and a
// replay that finds them ended returns at once. Signals and cancellation come from outside, as requests.
internal sealed partial class WorkflowActor
{
    /// <summary>The longest a .NET timer can be armed for; longer waits are re-armed.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(30);

    private const int MaxSignalNameLength = 200;

    private void OnBeginTimer(BeginTimer begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var key = begin.Key;
        var wait = new PendingWait(key, begin.Scope, null, begin.Reply, null) { Parent = begin.Parent };
        switch (_run!.Decider.DecideTimer(key, begin.WakeAt ?? Now + begin.Delay!.Value, Now))
        {
            // A timer that fired replays as fired, even after a cancellation: the replay follows what was recorded.
            case WaitCall.Ended:
                Write([], () => begin.Reply.TrySetResult());
                break;
            case WaitCall.Cancelled:
                Write([], () => begin.Reply.TrySetCanceled());
                break;
            case WaitCall.Resume { Wait: var recorded }:
                Write([], () => Await(wait, recorded.DueAt!.Value));
                break;
            case WaitCall.Begin when HoldIfPaused(begin):
                break;
            case WaitCall.Begin { Started: TimerStarted started }:
                Write([started], () => Await(wait, started.WakeAt));
                break;
            case WaitCall.Conflict conflict:
                Violate(conflict.Recorded, "a timer", "a timer", e => Write([], () => begin.Reply.TrySetException(e)));
                break;
        }
    }

    private void OnBeginSignalWait(BeginSignalWait begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var key = begin.Key;
        var wait = new PendingWait(key, begin.Scope, begin.Name, null, begin.Reply) { Parent = begin.Parent };
        switch (_run!.Decider.DecideSignalWait(key, begin.Name, begin.Timeout, Now))
        {
            case WaitCall.Ended { Wait: var recorded }:
                Write([], () => begin.Reply.TrySetResult(new SignalOutcome(key, recorded.PayloadJson, recorded.TimedOut)));
                break;
            case WaitCall.Cancelled:
                Write([], () => begin.Reply.TrySetCanceled());
                break;
            case WaitCall.Resume { Wait: var recorded }:
                Write([], () => AwaitSignal(wait, recorded.DueAt));
                break;
            case WaitCall.Begin when HoldIfPaused(begin):
                break;
            case WaitCall.Begin { Started: SignalWaitStarted started }:
                Write([started], () => AwaitSignal(wait, started.TimeoutAt));
                break;
            case WaitCall.Conflict conflict:
                Violate(conflict.Recorded, $"a wait for signal '{begin.Name}'", $"a wait for signal '{begin.Name}'", e => Write([], () => begin.Reply.TrySetException(e)));
                break;
        }
    }

    private void AwaitSignal(PendingWait wait, DateTimeOffset? timeoutAt)
    {
        // Paused: the signal is taken once unpaused (ReleaseHeld).
        if (!_journal.Paused && _journal.NextSignal(wait.SignalName!) is { } payload)
        {
            EndSignalWait(wait, payload);
            return;
        }
        // A child that ended while nobody recorded it here (a crash between its end and its message) tells again.
        if (ChildSignals.ChildOf(wait.SignalName) is { } child)
        {
            _runtime.Coordinator.Tell(new ReportToParent(child), ActorRefs.Nobody);
            // On a cluster the child's message is lost if its node dies at that moment: this host asks again now and
            // then, whether the run stays in memory or is put away, until the end arrives.
            if (_runtime.ChildRecheckAfter is not null)
                _coordinator.Tell(new RecheckChild(_workflowId, child));
        }
        if (timeoutAt is { } due)
            Await(wait, due);
        else
            Await(wait, null);
    }

    /// <summary>
    /// The run's code awaits <paramref name="wait"/> until <paramref name="dueAt"/> (null: until a signal or a child). A
    /// wait of the top-level code due later than the host keeps idle workflows (passivate-after) puts the workflow away
    /// at once; a wait with no due time, once it has lasted that long. Its callers then get
    /// <see cref="WorkflowWaiting"/>, the run is let go, and the coordinator wakes the workflow when due.
    /// </summary>
    private void Await(PendingWait wait, DateTimeOffset? dueAt)
    {
        var run = _run!;
        run.Telemetry.WaitBegan(wait.Key, wait.SignalName, dueAt, wait.Parent);
        if (dueAt is { } due && due <= Now && !_journal.Paused)
        {
            EndWaitOnTime(wait);
            return;
        }
        ReachedFrontier();
        run.Waits[wait.Key] = wait with { DueAt = dueAt };
        if (_journal.Paused)
        {
            // While paused a wait ends only once unpaused (ReleaseHeld), even when it is due or its signal came.
            if (dueAt is { } later && later > Now)
                ArmDue(run, wait.Key, later);
            PutAwayIfPaused();
            return;
        }
        if (dueAt is null)
        {
            // Idle time, like passivation: Akka's scheduler, not the workflow clock.
            var check = new PutAwayIfStillWaiting(run.Id, wait.Key);
            Timers.StartSingleTimer(check, check, _runtime.Settings.PassivateAfter);
            return;
        }
        if (MayPutAway(wait) && EarliestDue(run) - Now > _runtime.Settings.PassivateAfter && !DeadlineNear)
        {
            if (!ReleaseSlot(run))
                PutAway(run);
            return;
        }
        ArmDue(run, wait.Key, dueAt);
        // A top-level wait kept in memory only because the branch actors of a block that just ended have not stopped
        // yet (their end may reach this actor after the wait began), or a race's wait whose siblings did not wait yet:
        // looked at again once the idle time passed.
        if ((wait.Scope.Length == 0 || InTopLevelRace(wait)) && dueAt.Value - Now > _runtime.Settings.PassivateAfter)
        {
            var check = new PutAwayIfStillWaiting(run.Id, wait.Key);
            Timers.StartSingleTimer(check, check, _runtime.Settings.PassivateAfter);
        }
    }

    /// <summary>
    /// Nothing else of the run goes on: a wait of the top-level code with no branch running, or a race of the top-level
    /// code whose every branch awaits a durable wait (<see cref="IWorkflowContext.WhenAnyAsync"/>).
    /// </summary>
    private bool MayPutAway(PendingWait wait) => wait.Scope.Length == 0 ? _branches.Count == 0 : RaceAwaitsOnlyWaits();

    /// <summary>Whether <paramref name="wait"/> is awaited by a branch of a race of the top-level code.</summary>
    private bool InTopLevelRace(PendingWait wait) =>
        _branches.Values.Any(b => b.InRace && ScopeOfKey(b.Key).Length == 0 && ScopeOfBranch(b.Key) == wait.Scope);

    /// <summary>
    /// Whether every running branch belongs to a race of the top-level code and awaits a durable wait in its own scope
    /// (not a retry delay, not a step of another host, not a block of its own): the top-level code awaits the race.
    /// </summary>
    private bool RaceAwaitsOnlyWaits()
    {
        if (_run is not { } run || _branches.Count == 0 || run.DecidedLater.Count > 0)
            return false;
        foreach (var branch in _branches.Values)
        {
            if (!branch.InRace || ScopeOfKey(branch.Key).Length != 0 || branch.Context.InRetryDelay)
                return false;
            var scope = ScopeOfBranch(branch.Key);
            if (!run.Waits.Values.Any(w => w.Scope == scope))
                return false;
        }
        return true;
    }

    /// <summary>The earliest due time of the run's waits; <see cref="DateTimeOffset.MaxValue"/> when none has one.</summary>
    private static DateTimeOffset EarliestDue(ActiveRun run)
    {
        var earliest = DateTimeOffset.MaxValue;
        foreach (var wait in run.Waits.Values)
        {
            if (wait.DueAt is { } due && due < earliest)
                earliest = due;
        }
        return earliest;
    }

    private void OnPutAwayIfStillWaiting(PutAwayIfStillWaiting check)
    {
        if (_run is not { } run || run.Id != check.RunId || !run.Waits.TryGetValue(check.Key, out var wait))
            return;
        if (MayPutAway(wait) && !DeadlineNear)
            PutAway(run);
        else if (wait.Scope.Length == 0)
            // Branch actors that have not stopped yet (a race's losers stopping), or a deadline about to cancel the
            // workflow: looked at again after another while.
            Timers.StartSingleTimer(check, check, _runtime.Settings.PassivateAfter);
    }

    /// <summary>
    /// The workflow's deadline comes within the idle time (or has passed and its cancellation is on its way): it is
    /// not put away, since it is cancelled at once.
    /// </summary>
    private bool DeadlineNear =>
        _journal.Deadline is { } deadline && !_journal.CancelRequested && deadline - Now <= _runtime.Settings.PassivateAfter;

    private sealed record PutAwayIfStillWaiting(int RunId, string Key);

    private void ArmDue(ActiveRun run, string key, DateTimeOffset? dueAt)
    {
        if (dueAt is not { } due)
            return;
        var self = Self;
        var message = new WaitDue(run.Id, key);
        // A timer of the clock (tests move time); re-armed when the wait is longer than a .NET timer can be.
        run.Timers.Add(ClockTimer.At(_runtime.Clock, due, LongestTimer, () => self.Tell(message)));
    }

    private void OnWaitDue(WaitDue due)
    {
        if (_run is not { } run || run.Id != due.RunId || !run.Waits.TryGetValue(due.Key, out var wait))
            return;
        if (wait.DueAt is { } at && at > Now)
        {
            ArmDue(run, wait.Key, at);
            return;
        }
        if (_journal.Paused)
        {
            // It fires once unpaused (ReleaseHeld).
            PutAwayIfPaused();
            return;
        }
        EndWaitOnTime(wait);
    }

    /// <summary>A wait's token was cancelled: a wait the run still awaits here is recorded as cancelled, then throws.</summary>
    private void OnCancelWait(CancelWait cancel)
    {
        if (_run is not { } run || run.Id != cancel.RunId || !run.Waits.Remove(cancel.Key, out var wait))
            return;
        run.Telemetry.WaitEnded(wait.Key, "cancelled");
        Write([new WaitCancelled(wait.Key, Now)], () =>
        {
            wait.Fired?.TrySetCanceled();
            wait.Signalled?.TrySetCanceled();
        });
    }

    /// <summary>A timer fires, or a signal wait times out.</summary>
    private void EndWaitOnTime(PendingWait wait)
    {
        _run?.Waits.Remove(wait.Key);
        _run?.Telemetry.WaitEnded(wait.Key, wait.SignalName is null ? "fired" : "timed_out");
        if (wait.SignalName is null)
            Write([new TimerFired(wait.Key, Now)], () => wait.Fired!.TrySetResult());
        else
            Write([new SignalWaitEnded(wait.Key, null, true, Now)], () => wait.Signalled!.TrySetResult(new SignalOutcome(wait.Key, null, true)));
    }

    private void EndSignalWait(PendingWait wait, string payload)
    {
        _run?.Waits.Remove(wait.Key);
        _run?.Telemetry.WaitEnded(wait.Key, "received");
        Write([new SignalWaitEnded(wait.Key, payload, false, Now)], () => wait.Signalled!.TrySetResult(new SignalOutcome(wait.Key, payload, false)));
    }

    /// <summary>
    /// Lets the run go while it waits (see <see cref="Await"/>); nothing is written: the waits are journaled already. A
    /// race's branches are let go with it; a later run replays up to its waits again.
    /// </summary>
    private void PutAway(ActiveRun run)
    {
        var waits = run.Waits.Values.OrderBy(w => w.Key, StepKeys.Comparer).ToList();
        var what = string.Join(" or ", waits.Select(w => ChildSignals.Describe(w.SignalName, w.DueAt)));
        var earliest = EarliestDue(run);
        // The deadline wakes it too: it is cancelled then.
        if (_journal.Deadline is { } deadline && deadline < earliest && !_journal.CancelRequested)
            earliest = deadline;
        DateTimeOffset? wakeAt = earliest == DateTimeOffset.MaxValue ? null : earliest;
        _log.Info("Workflow [{0}] is {1}: put away until then", _workflowId, what);
        _run = null;
        run.Abandon();
        _held.Clear();
        AbandonBranches();
        run.Telemetry.PutAway(what);
        _requests.AnswerClaimed(new WorkflowWaiting(_workflowId, what, wakeAt));
        if (wakeAt is { } dueAt)
            _coordinator.Tell(new WakeAt(_workflowId, dueAt));
        Self.Tell(PassivateIfIdle.Instance);
    }

    private void OnSignal(WorkflowRequest request, SignalWorkflow signal)
    {
        if (!_journal.Exists)
        {
            _requests.Answer(request, new WorkflowNotFound(_workflowId));
            return;
        }
        // A resend of a signal already received (its reply was lost, or a retry crossed it): delivered once, answered again.
        if (signal.DeliveryId is { } deliveryId && _journal.HasSignalDelivery(deliveryId))
        {
            _requests.Answer(request, new SignalDelivered(_workflowId, signal.SignalName));
            return;
        }
        if (InvalidSignal(signal) is { } problem)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId, problem));
            return;
        }
        if (_journal.IsFinal)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' has ended ({_journal.Status.ToString().ToUpperInvariant()}); signal '{signal.SignalName}' was not delivered"));
            return;
        }
        DeliverSignal(request, signal.SignalName, signal.PayloadJson ?? "null", signal.DeliveryId);
    }

    /// <summary>Makes the signal durable, answers the sender, and hands it to a wait (or runs a put-away workflow on).</summary>
    private void DeliverSignal(WorkflowRequest request, string name, string payload, string? deliveryId = null)
    {
        if (!_journal.Exists || _journal.IsFinal)
        {
            _requests.Answer(request, _journal.Exists
                ? new WorkflowRejected(_workflowId, $"workflow '{_workflowId}' has ended ({_journal.Status.ToString().ToUpperInvariant()}); signal '{name}' was not delivered")
                : new WorkflowNotFound(_workflowId));
            return;
        }
        var signal = new SignalWorkflow(_workflowId, name, payload);
        Write([new SignalReceived(signal.SignalName, payload, Now, deliveryId)], () =>
        {
            _requests.Answer(request, new SignalDelivered(_workflowId, signal.SignalName));
            if (_run is { } run)
            {
                // The oldest wait for this name takes it (the journal holds it as consumed by that wait).
                var waiting = run.Waits.Values.Where(w => w.SignalName == signal.SignalName).OrderBy(w => w.Key, StepKeys.Comparer).FirstOrDefault();
                if (waiting is not null && !_journal.Paused && _journal.NextSignal(signal.SignalName) is { } next)
                    EndSignalWait(waiting, next);
            }
            else if (_journal.Status == WorkflowRunStatus.Running)
            {
                // Put away (or left by a crash): run it, and its wait consumes the signal.
                JoinOrBeginRun(null);
            }
        });
    }

    private static string? InvalidSignal(SignalWorkflow signal)
    {
        if (string.IsNullOrWhiteSpace(signal.SignalName))
            return "the signal name is empty";
        if (signal.SignalName.StartsWith('$'))
            return $"the signal name '{signal.SignalName}' is not valid: names starting with '$' are the engine's own";
        if (signal.SignalName.Length > MaxSignalNameLength || signal.SignalName.Any(char.IsControl) || signal.SignalName.Trim() != signal.SignalName)
            return $"the signal name '{signal.SignalName}' is not valid (at most {MaxSignalNameLength} characters, no control characters, no surrounding white space)";
        if (signal.PayloadJson is { } payload)
        {
            try
            {
                using var _ = System.Text.Json.JsonDocument.Parse(payload);
            }
            catch (System.Text.Json.JsonException e)
            {
                return $"the payload of signal '{signal.SignalName}' is not valid JSON: {e.Message}";
            }
        }
        return null;
    }

    private void OnCancel(WorkflowRequest request, CancelWorkflow cancel)
    {
        if (!_journal.Exists)
        {
            _requests.Answer(request, new WorkflowNotFound(_workflowId));
            return;
        }
        // A resend of the request that was recorded (its reply was lost with a node): answered as the first was, even
        // once the workflow has ended because of it.
        if (cancel.DeliveryId is { } deliveryId && _journal.CancelRequested && _journal.CancelDeliveryId == deliveryId)
        {
            _requests.Answer(request, new CancellationRequested(_workflowId));
            return;
        }
        if (_journal.IsFinal)
        {
            _requests.Answer(request, new WorkflowRejected(_workflowId,
                $"workflow '{_workflowId}' has already ended ({_journal.Status.ToString().ToUpperInvariant()}); nothing was changed"));
            return;
        }
        if (_journal.CancelRequested)
        {
            _requests.Answer(request, new CancellationRequested(_workflowId));
            // A failed workflow whose cancellation did not end it (a crash cut it short, or its cleanup failed): now it does.
            if (_run is null && _journal.Status == WorkflowRunStatus.Failed)
                CancelRun(cancel.Reason);
            return;
        }
        if (_journal.Queue is not null)
        {
            CancelEnqueued(request, cancel.Reason, cancel.DeliveryId);
            return;
        }
        Write(Cancelling(new CancelRequested(cancel.Reason, Now, cancel.DeliveryId)), () =>
        {
            _requests.Answer(request, new CancellationRequested(_workflowId));
            CancelRun(cancel.Reason);
        });
    }

    /// <summary>A cancelled parent's cancel: taken as a cancel when this workflow was started to be cancelled with that parent.</summary>
    private void OnCancelAsChild(WorkflowRequest request, CancelChildWorkflow cancel)
    {
        if (_journal.ParentId == cancel.ParentId && _journal.CancelWithParent == true)
            OnCancel(request, new CancelWorkflow(_workflowId, cancel.Reason));
        else
            _requests.Answer(request, new WorkflowRejected(_workflowId, $"workflow '{_workflowId}' is not cancelled with '{cancel.ParentId}'; nothing was changed"));
    }

    /// <summary>The workflow's cancellation is durable: its run sees it (one is begun if none runs), or a failed workflow ends cancelled.</summary>
    private void CancelRun(string? reason)
    {
        if (_run is { } run)
        {
            // The token fires (on the pool), then every durable wait of the run throws.
            run.CancelOnPool([.. run.Waits.Values]);
            run.Waits.Clear();
            // Operations held while it was paused (a cancellation ends the pause) are decided now: cleanup may run.
            ReleaseHeld();
        }
        else if (_journal.Status == WorkflowRunStatus.Failed)
        {
            // No run cancels its children (as a run's cancellation does): they are cancelled from here, those started to
            // be cancelled with it, first (each cancel is idempotent: a crash before the end below leaves them asked).
            foreach (var child in _journal.StartedChildren())
                _runtime.TellWorkflow(new CancelChildWorkflow(child, _workflowId, ChildSignals.ParentCancelled(_workflowId)));
            Write([new RunCancelled(reason, Now)], () => { });
        }
        else
            // Put away or left by a crash: a run sees the cancellation, may clean up, and ends cancelled.
            JoinOrBeginRun(null);
    }

    /// <summary>Sent to self on the workflow clock when the workflow's deadline is due.</summary>
    private sealed class DeadlinePassed
    {
        public static DeadlinePassed Instance { get; } = new();

        private DeadlinePassed() { }
    }

    /// <summary>The clock's timer of the workflow's deadline, armed while a run goes on in this actor.</summary>
    private ITimer? _deadlineTimer;

    private void ArmDeadline()
    {
        if (_deadlineTimer is not null || _journal.Deadline is not { } deadline || _journal.CancelRequested)
            return;
        var self = Self;
        _deadlineTimer = ClockTimer.At(_runtime.Clock, deadline, LongestTimer, () => self.Tell(DeadlinePassed.Instance, ActorRefs.NoSender));
    }

    /// <summary>The deadline is due: a running workflow is cancelled as timed out (a put-away one when it is woken for it).</summary>
    private void OnDeadlinePassed()
    {
        _deadlineTimer?.Dispose();
        _deadlineTimer = null;
        if (_journal.Deadline is not { } deadline || _journal.Status != WorkflowRunStatus.Running || _journal.CancelRequested)
            return;
        if (deadline > Now)
        {
            // Longer than a .NET timer can be armed for.
            ArmDeadline();
            return;
        }
        var reason = TimedOut(deadline);
        _log.Info("Workflow [{0}] {1}: cancelled", _workflowId, reason);
        Write(Cancelling(new CancelRequested(reason, Now)), () => CancelRun(reason));
    }

    private static string TimedOut(DateTimeOffset deadline) =>
        $"timed out: its deadline {deadline.ToString("O", System.Globalization.CultureInfo.InvariantCulture)} passed";

    /// <summary>The deadline of a workflow started now with <paramref name="timeout"/>, under a parent's <paramref name="inherited"/> one.</summary>
    private DateTimeOffset? DeadlineOf(TimeSpan? timeout, DateTimeOffset? inherited)
    {
        DateTimeOffset? own = timeout is { } t ? Now + t : null;
        return own is { } o && (inherited is null || o < inherited) ? o : inherited;
    }

    private static string? InvalidTimeout(TimeSpan? timeout) => timeout is { } t && t <= TimeSpan.Zero
        ? $"the timeout must be more than zero, not {t}"
        : null;

    private void OnStartChild(WorkflowRequest request, BeginWorkflow start)
    {
        if (_journal.Exists)
        {
            _requests.Answer(request, new WorkflowBegun(_workflowId));
            return;
        }
        if (!_runtime.Registry.TryGet(start.WorkflowType, out var definition))
        {
            var known = string.Join(", ", _runtime.Registry.WorkflowTypes.Order(StringComparer.Ordinal));
            _requests.Answer(request, new WorkflowRejected(_workflowId, $"unknown workflow type '{start.WorkflowType}' (registered: {known})"));
            return;
        }
        if (definition.ValidateInput(start.InputJson, _runtime.Registry.JsonOptions) is { } inputError)
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
        var started = new WorkflowStarted(start.WorkflowType, start.InputJson, Now, start.ParentId, _firstRun.TraceParent ?? start.TraceParent,
            DeadlineOf(start.Timeout, start.Deadline)) { CancelWithParent = start.ParentId is null ? null : start.CancelWithParent };
        // Enqueued: held before its code runs, in the start's write (a crash leaves it enqueued or not started at all).
        IJournalEvent[] events = start.Queue is { } queue
            ? [started, new RunPaused($"enqueued on queue '{queue}'", Now, started.Deadline, queue)]
            : [started];
        Write(events, () =>
        {
            _firstRun?.Journaled();
            if (start.Queue is not null)
            {
                // No run until the queue admits it: the first run's telemetry ends here, as a put-away run's does.
                _firstRun?.PutAway(_journal.PauseDescription);
                _firstRun = null;
            }
            _requests.Answer(request, new WorkflowBegun(_workflowId));
            JoinOrBeginRun(null);
        });
    }

    /// <summary>A child that ended (completed, failed, cancelled) tells its parent, as the signal the parent's wait takes.</summary>
    private void ReportToParentIfEnded()
    {
        if (_journal.ParentId is not { } parent || _run is not null
            || _journal.Status is not (WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled))
            return;
        var outcome = new ChildOutcome(_journal.Status.ToString().ToUpperInvariant(), _journal.ResultJson,
            _journal.Status == WorkflowRunStatus.Completed ? null : _journal.Error);
        var json = System.Text.Json.JsonSerializer.Serialize(outcome, _runtime.Registry.JsonOptions);
        var ended = new ChildWorkflowEnded(parent, _workflowId, json);
        if (_runtime.Hooks.ChildEndedSending?.Invoke(ended) ?? true)
            _runtime.Coordinator.Tell(ended, ActorRefs.Nobody);
    }

    /// <summary>A durable wait the run's code awaits: a timer (<see cref="Fired"/>) or a signal wait (<see cref="Signalled"/>).</summary>
    internal sealed record PendingWait(
        string Key,
        string Scope,
        string? SignalName,
        TaskCompletionSource? Fired,
        TaskCompletionSource<SignalOutcome>? Signalled)
    {
        public DateTimeOffset? DueAt { get; init; }

        /// <summary>The trace context of the code that waits: the parent of the wait's span.</summary>
        public System.Diagnostics.ActivityContext Parent { get; init; }
    }
}
