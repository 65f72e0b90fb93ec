using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

/// <summary>
/// Finds or creates the actor of a workflow id and routes messages to it. Each workflow actor sits under its own
/// backoff supervisor, which restarts it after a journal failure stopped it; it then recovers from its journal and
/// takes up the requests kept here. When the supervisor gives up, those requests get the failure. On start it
/// resumes every unfinished workflow (recover-on-start). One workflow's failure never touches another.
/// </summary>
/// <remarks>
/// Passivation: a workflow actor with nothing to do asks to be stopped (<see cref="Passivate"/>). The coordinator
/// stops its supervisor only when no request waits, and keeps every request that arrives while it stops; when the
/// supervisor has stopped, the workflow is forgotten, or started again at once for the requests kept meanwhile
/// (its next actor takes them up after recovery). So no request is lost or left unanswered across a passivation.
/// </remarks>
internal sealed class WorkflowCoordinatorActor : ReceiveActor
{
    private const int MaxWorkflowIdLength = 200;

    private readonly WorkflowRuntime _runtime;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Entry> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _bySupervisor = [];
    // What workflows whose supervisor gave up left behind: the completions of step bodies that returned (the next
    // actor writes them, so those steps never run again) and the steps this host started (their runs died with the
    // actor, so the next actor runs them again at once rather than after the stale timeout).
    private readonly Dictionary<string, WorkflowRequests> _leftBehind = new(StringComparer.Ordinal);

    // Cluster mode: this coordinator is the sharded entity of one bucket of workflow ids, and recovers only those.
    private readonly Func<string, bool>? _owns;
    // ... and its share of the ids, which an index source may use to read only them.
    private readonly RecoveryPartition? _partition;

    public WorkflowCoordinatorActor(WorkflowRuntime runtime, Func<string, bool>? owns, RecoveryPartition? partition = null)
    {
        _runtime = runtime;
        _owns = owns;
        _partition = partition;
        // On one machine the coordinator routes between workflows; in cluster mode the shard region does (set before).
        if (owns is null && runtime.Coordinator.IsNobody())
            runtime.Coordinator = Self;

        Receive<IWorkflowCommand>(command => OnCommand(Sender, command));
        Receive<EnqueueWorkflow>(enqueue =>
        {
            var sender = Sender;
            if (WorkflowClient.Of(Context.System).QueueClient is { } queues)
                queues.ReplyAsync(enqueue).PipeTo(sender);
            else
                sender.Tell(new WorkflowRejected(enqueue.WorkflowId ?? "", "this host keeps no queues: they are kept in the engine's SQLite file or a cluster's PostgreSQL database"));
        });
        Receive<HandedOn>(OnHandedOn);
        Receive<PurgeEndedWorkflows>(OnPurgeEnded);
        Receive<BulkPurgeEnded>(OnBulkPurgeEnded);
        Receive<HandOffBucket>(_ => OnHandOff());
        Receive<WorkflowDrained>(OnDrained);
        Receive<Passivate>(OnPassivate);
        Receive<BecameIdle>(OnBecameIdle);
        Receive<CountWorkflowActors>(_ => Sender.Tell(_workflows.Count));
        Receive<QueryQuiet>(_ => AnswerQuiet(Sender));
        Receive<Terminated>(OnSupervisorTerminated);
        Receive<PendingWorkflowsFound>(found =>
        {
            var now = _runtime.Clock.GetUtcNow();
            var mine = found.Workflows.Where(w => _owns is null || _owns(w.WorkflowId)).ToList();
            var waiting = mine.Count(w => w.WakeAt is not null);
            if (_owns is null || mine.Count > 0)
                _log.Info("Recovering {0} unfinished workflows ({1} of them wait: woken when due)", mine.Count, waiting);
            // Through the wake-up queue: at most MaxWakingUp of them run their recovery at once, in due order. One
            // that waits for a signal or a child only is woken by it, not by time.
            foreach (var (id, wakeAt) in found.Workflows.Where(w => _owns is null || _owns(w.WorkflowId)))
            {
                if (wakeAt != WorkflowIndex.NoDueTime)
                    OnWakeAt(new WakeAt(id, wakeAt ?? now));
            }
        });
        Receive<Status.Failure>(failure =>
        {
            _log.Error(failure.Cause, "Could not find unfinished workflows to recover");
            // Cluster mode: the bucket may have moved here from a lost node; its workflows must be recovered, so the
            // recovery is tried again (the database may be back by then).
            if (_owns is not null)
                Later(RetryDelay, RecoverAgain.Instance);
        });
        Receive<RecoverAgain>(_ => Recover());
        // Replies to the coordinator's own requests (recovery and wake-ups): each lets the next due workflow wake.
        Receive<WorkflowCompleted>(c => Woke(c.WorkflowId, () => _log.Info("Recovered workflow [{0}] completed", c.WorkflowId)));
        Receive<WorkflowFailed>(f => Woke(f.WorkflowId, () => _log.Warning("Recovered workflow [{0}] failed: {1}", f.WorkflowId, f.Error)));
        Receive<WorkflowRejected>(r => Woke(r.WorkflowId, () => _log.Warning("Recovered workflow [{0}] was rejected: {1}", r.WorkflowId, r.Reason)));
        Receive<WorkflowNotFound>(n => Woke(n.WorkflowId, () => { }));
        Receive<WorkflowWaiting>(w => Woke(w.WorkflowId, () => _log.Info("Workflow [{0}] is {1}", w.WorkflowId, w.WaitingFor)));
        Receive<WorkflowCancelled>(c => Woke(c.WorkflowId, () => _log.Info("Workflow [{0}] was cancelled", c.WorkflowId)));
        Receive<WakeAt>(OnWakeAt);
        Receive<RecheckChild>(OnRecheckChild);
        Receive<RecheckChildren>(_ => AskChildrenAgain());
        Receive<WokeUp>(w => Woke(w.WorkflowId, () => { }));
        Receive<WatchWorkflow>(watch => OnWatch(watch, Sender));
        Receive<UnwatchWorkflow>(unwatch => OnUnwatch(unwatch, Sender));
        Receive<CountWatchers>(count => Sender.Tell(_watchers.TryGetValue(count.WorkflowId, out var watchers) ? watchers.Count : 0));
        Receive<WorkflowEnded>(OnWorkflowEnded);
        Receive<StillRunning>(_ => { });
        Receive<WorkflowBegun>(_ => { });
        Receive<WakeDue>(_ => OnWakeDue());
        // Cluster mode: a node asks every bucket to exist, so each one recovers its workflows (see Cluster/).
        Receive<EnsureBucket>(_ => { });
    }

    private void OnCommand(IActorRef sender, IWorkflowCommand command)
    {
        if (_handingOff)
        {
            HandOn(sender, command);
            return;
        }
        if (InvalidId(command.WorkflowId) is { } reason)
        {
            sender.Tell(command is StartWorkflow or BeginWorkflow or ForkWorkflow or BeginFork ? new WorkflowRejected(command.WorkflowId ?? "", reason) : new WorkflowNotFound(command.WorkflowId ?? ""));
            return;
        }
        // A bulk purge of this id is under way: the request waits for it (it then finds the workflow gone, or whole).
        if (_purging.TryGetValue(command.WorkflowId, out var held))
        {
            held.Add((sender, command));
            return;
        }
        if (command is ChildWorkflowEnded childEnded)
            ForgetRecheck(childEnded.WorkflowId, childEnded.ChildId);
        var entry = GetOrCreate(command.WorkflowId);
        Busy(command.WorkflowId);
        var request = entry.Requests.Add(sender, command);
        if (entry.Passivating)
            _runtime.Hooks.RequestBuffered?.Invoke(command.WorkflowId);
        else
            entry.Supervisor.Tell(request);
    }

    // Cluster mode: the ids of the requests handed on to this bucket that it took up, so that one sent again is taken once.
    private readonly HashSet<string> _handedOn = new(StringComparer.Ordinal);
    private readonly Queue<string> _handedOnOrder = new();
    private const int HandedOnKept = 10_000;

    private void OnHandedOn(HandedOn handed)
    {
        Sender.Tell(new HandOnReceived(handed.Id));
        if (!_handedOn.Add(handed.Id))
            return;
        _handedOnOrder.Enqueue(handed.Id);
        if (_handedOnOrder.Count > HandedOnKept)
            _handedOn.Remove(_handedOnOrder.Dequeue());
        switch (handed.Message)
        {
            case IWorkflowCommand command:
                OnCommand(handed.Caller, command);
                break;
            case WatchWorkflow watch:
                OnWatch(watch, handed.Caller);
                break;
            case UnwatchWorkflow unwatch:
                OnUnwatch(unwatch, handed.Caller);
                break;
        }
    }

    protected override void PreStart() => Recover();

    // Cluster mode: how long a bucket waits before it tries again what the database refused (recovery, a workflow
    // whose supervisor gave up), so that its workflows go on once the database is back.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(10);

    private readonly List<ITimer> _later = [];

    private void Later(TimeSpan delay, object message)
    {
        var self = Self;
        _later.Add(_runtime.Clock.CreateTimer(_ => self.Tell(message), null, delay, Timeout.InfiniteTimeSpan));
    }

    private sealed class RecoverAgain
    {
        public static RecoverAgain Instance { get; } = new();

        private RecoverAgain() { }
    }

    private void Recover()
    {
        if (_runtime.Settings.RecoverOnStart)
            FindUnfinishedAsync(Context.System, _partition, _runtime.Hooks.RecoveryFound).PipeTo(Self);
    }

    private static async Task<object> FindUnfinishedAsync(ActorSystem system, RecoveryPartition? partition, Func<Task>? found)
    {
        try
        {
            var workflows = await JournalReader.GetRecoveryAsync(system, partition, CancellationToken.None).ConfigureAwait(false);
            if (found is not null)
                await found().ConfigureAwait(false);
            return new PendingWorkflowsFound(workflows);
        }
        catch (Exception e)
        {
            return new Status.Failure(e);
        }
    }

    private Entry GetOrCreate(string workflowId)
    {
        if (_workflows.TryGetValue(workflowId, out var existing))
            return existing;

        if (!_leftBehind.Remove(workflowId, out var requests))
            requests = new WorkflowRequests();
        requests.Passivating = false;
        var runtime = _runtime;
        var coordinator = Self;
        var workflowProps = ActorProps.Of(() => new WorkflowActor(workflowId, runtime, requests, coordinator));
        var options = Backoff.OnStop(
                workflowProps,
                "workflow",
                runtime.Settings.MinBackoff,
                runtime.Settings.MaxBackoff,
                randomFactor: 0.2,
                maxNrOfRetries: runtime.Settings.MaxRestarts)
            // An exception in the actor is a bug of ours: stop it, so it restarts after the backoff and recovers.
            // The backoff supervisor reads its restart limit from this strategy.
            .WithSupervisorStrategy(new OneForOneStrategy(runtime.Settings.MaxRestarts, null, _ => Directive.Stop))
            // The actor resets the backoff itself once it made progress (see WorkflowActor): a restarted actor that
            // fails again before writing anything counts towards max-restarts, however long it lived.
            .WithManualReset();
        // A name of its own per incarnation: a passivated workflow's next supervisor may start before the old name is free.
        var supervisor = Context.ActorOf(BackoffSupervisor.Props(options), $"{Uri.EscapeDataString(workflowId)}-{++_incarnations}");
        Context.Watch(supervisor);
        var entry = new Entry(supervisor, requests);
        _workflows[workflowId] = entry;
        _runtime.IdleMemory?.Changed(1);
        _bySupervisor[supervisor] = workflowId;
        return entry;
    }

    private long _incarnations;

    /// <summary>How long a workflow's actor may take to say whether it is quiet; one that does not is taken as busy.</summary>
    private static readonly TimeSpan QuietAnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Quiet (<see cref="QueryQuiet"/>): no wake-up is due, no stopping workflow has requests for its next actor, and
    /// every workflow actor says it awaits only time, signals or others.
    /// </summary>
    private void AnswerQuiet(IActorRef asker)
    {
        var now = _runtime.Clock.GetUtcNow();
        if ((_wakeUps.Count > 0 && _wakeUps.Min.Due <= now) || _workflows.Values.Any(e => e.Passivating && e.Requests.HasWaiting))
        {
            asker.Tell(false);
            return;
        }
        var answers = _workflows.Values.Where(e => !e.Passivating)
            .Select(e => e.Supervisor.Ask<bool>(QueryQuiet.Instance, QuietAnswerTimeout))
            .ToList();
        Task.WhenAll(answers).ContinueWith(t => t.IsCompletedSuccessfully && t.Result.All(quiet => quiet), TaskScheduler.Default).PipeTo(asker);
    }

    // Idle workflow actors, longest idle first, capped at max-idle-workflows: the coordinator asks the longest idle to
    // passivate; it does only if it still is idle (the actor decides, so no run is ever stopped by this).
    private readonly LinkedList<string> _idleOrder = new();
    private readonly Dictionary<string, LinkedListNode<string>> _idle = new(StringComparer.Ordinal);

    private void OnBecameIdle(BecameIdle idle)
    {
        var cap = _runtime.Settings.MaxIdleWorkflows;
        if (cap == 0 || !_workflows.TryGetValue(idle.WorkflowId, out var entry) || entry.Passivating)
            return;
        Busy(idle.WorkflowId);
        _idle[idle.WorkflowId] = _idleOrder.AddLast(idle.WorkflowId);
        while (_idle.Count > cap)
        {
            var longest = _idleOrder.First!.Value;
            Busy(longest);
            if (_workflows.TryGetValue(longest, out var evicted) && !evicted.Passivating)
                evicted.Supervisor.Tell(WorkflowActor.PassivateIfIdle.Instance);
        }
    }

    private void Busy(string workflowId)
    {
        if (_idle.Remove(workflowId, out var node))
            _idleOrder.Remove(node);
    }

    // Cluster mode: this bucket moves to another node (sharding's hand-off). Each workflow's actor drains: it begins
    // nothing more, its running step bodies end and their outcomes are written; then it is stopped and its requests
    // and watchers are sent on through the shard region, which delivers them once the bucket runs on its new node. So
    // no caller is failed by a move, and no step body of a moved workflow runs on two nodes at once.
    private bool _handingOff;

    private void OnHandOff()
    {
        if (_handingOff)
            return;
        _handingOff = true;
        _log.Info("Handing off: draining {0} workflows before their bucket moves to another node", _workflows.Count);
        foreach (var entry in _workflows.Values)
        {
            entry.Requests.HandingOff = true;
            if (!entry.Passivating)
                entry.Supervisor.Tell(DrainWorkflow.Instance);
        }
        StopIfHandedOff();
    }

    private void OnDrained(WorkflowDrained drained)
    {
        if (_handingOff && _workflows.TryGetValue(drained.WorkflowId, out var entry) && !entry.Passivating)
        {
            entry.Passivating = true;
            Context.Stop(entry.Supervisor);
        }
    }

    /// <summary>
    /// Sends a request, watch or unwatch on to the workflow's new home through the shard region; the coordinator's own
    /// (recovery, wake-ups) are not: the new home recovers. Sent from here, before this bucket stops, so that the region
    /// has it before the bucket's end; the node's relay sends it again until the new home acknowledges it.
    /// </summary>
    private void HandOn(IActorRef sender, object message)
    {
        if (sender.Equals(Self))
            return;
        if (_runtime.HandOnRelay.IsNobody())
        {
            _runtime.Coordinator.Tell(message, sender);
            return;
        }
        var handed = new HandedOn(Guid.NewGuid().ToString("N"), WorkflowIdOf(message), Idempotent(message), sender);
        _runtime.HandOnRelay.Tell(new TrackHandOn(handed));
        if (_runtime.Hooks.HandOnLost?.Invoke(handed) != true)
            _runtime.Coordinator.Tell(handed, _runtime.HandOnRelay);
    }

    private static string WorkflowIdOf(object message) => message switch
    {
        IWorkflowCommand command => command.WorkflowId,
        WatchWorkflow watch => watch.WorkflowId,
        UnwatchWorkflow unwatch => unwatch.WorkflowId,
        _ => throw new ArgumentException($"Cannot hand on {message.GetType().Name}.", nameof(message)),
    };

    /// <summary>A signal or cancel gets a delivery id when it has none, so that one sent again is delivered once.</summary>
    private static object Idempotent(object message) => message switch
    {
        SignalWorkflow { DeliveryId: null } signal => signal with { DeliveryId = "hand-on-" + Guid.NewGuid().ToString("N") },
        CancelWorkflow { DeliveryId: null } cancel => cancel with { DeliveryId = "hand-on-" + Guid.NewGuid().ToString("N") },
        _ => message,
    };

    private void StopIfHandedOff()
    {
        if (!_handingOff || _workflows.Count > 0)
            return;
        foreach (var (workflowId, watchers) in _watchers)
        {
            foreach (var watcher in watchers)
                HandOn(watcher.Caller, new WatchWorkflow(workflowId, watcher.WatchId));
        }
        _watchers.Clear();
        Context.Stop(Self);
    }

    private void OnPassivate(Passivate passivate)
    {
        if (_handingOff)
            return;
        if (!_workflows.TryGetValue(passivate.WorkflowId, out var entry) || entry.Passivating || entry.Requests.HasWaiting)
            return;
        entry.Passivating = true;
        entry.Requests.Passivating = true;
        Context.Stop(entry.Supervisor);
    }

    private void OnSupervisorTerminated(Terminated terminated)
    {
        if (!_bySupervisor.Remove(terminated.ActorRef, out var workflowId) || !_workflows.TryGetValue(workflowId, out var entry))
            return;
        _workflows.Remove(workflowId);
        _runtime.IdleMemory?.Changed(-1);
        Busy(workflowId);
        var requests = entry.Requests;
        if (_handingOff)
        {
            foreach (var (sender, command) in requests.TakeAll())
                HandOn(sender, command);
            StopIfHandedOff();
            return;
        }
        if (entry.Passivating)
        {
            // Requests that arrived while the actor stopped: its next actor takes them up after recovery.
            if (requests.HasWaiting)
            {
                _leftBehind[workflowId] = requests;
                GetOrCreate(workflowId);
            }
            return;
        }

        var cause = requests.StopCause ?? "its actor stopped";
        _log.Error("Workflow [{0}] gave up after {1} restarts: {2}", workflowId, _runtime.Settings.MaxRestarts, cause);
        var gaveUp = new WorkflowFailed(workflowId,
            $"workflow '{workflowId}' gave up after {_runtime.Settings.MaxRestarts} restarts: {cause}. Nothing recorded was lost; resume the workflow to go on.");
        requests.AnswerAll(gaveUp);
        // Its run is not begun again by the next actor of the workflow (a status request, say): a person resumes it.
        requests.RunLost = false;
        // Nor does anything end it by itself on one machine: the callers awaiting its end learn why it stopped.
        if (_owns is null && _watchers.Remove(workflowId, out var watchers))
        {
            foreach (var watcher in watchers)
                watcher.Caller.Tell(gaveUp);
        }
        if (requests.HasLeftovers)
            _leftBehind[workflowId] = requests;
        // Cluster mode: no person runs `resume` on a cluster node; the bucket resumes the workflow itself later, so
        // that it goes on once the database is back (and keeps trying, every few seconds, while it is not).
        if (_owns is not null)
        {
            _log.Warning("Workflow [{0}] is resumed again in {1} s", workflowId, RetryDelay.TotalSeconds);
            Later(RetryDelay, new ContinueWorkflow(workflowId));
        }
    }

    // Workflows put away while they wait, by when they are due: one timer, for the earliest.
    private readonly SortedSet<(DateTimeOffset Due, string WorkflowId)> _wakeUps = [];
    private readonly Dictionary<string, DateTimeOffset> _wakeUpOf = new(StringComparer.Ordinal);
    private ITimer? _wakeTimer;
    private DateTimeOffset? _wakeTimerDue;

    private void OnWakeAt(WakeAt wake)
    {
        if (_wakeUpOf.Remove(wake.WorkflowId, out var previous))
            _wakeUps.Remove((previous, wake.WorkflowId));
        _wakeUps.Add((wake.DueAt, wake.WorkflowId));
        _wakeUpOf[wake.WorkflowId] = wake.DueAt;
        ArmWakeTimer();
    }

    /// <summary>How many due workflows run their wake-up (recovery, replay up to the due wait) at once: no thundering herd.</summary>
    private const int MaxWakingUp = 64;

    private readonly HashSet<string> _wakingUp = new(StringComparer.Ordinal);

    private void OnWakeDue()
    {
        _wakeTimerDue = null;
        var now = _runtime.Clock.GetUtcNow();
        while (_wakeUps.Count > 0 && _wakeUps.Min.Due <= now && _wakingUp.Count < MaxWakingUp)
        {
            var (_, workflowId) = _wakeUps.Min;
            _wakeUps.Remove(_wakeUps.Min);
            _wakeUpOf.Remove(workflowId);
            // Replays up to its wait, which is due now: the timer fires or the signal wait times out. In due order.
            _wakingUp.Add(workflowId);
            Self.Tell(new ContinueWorkflow(workflowId));
        }
        if (_wakingUp.Count < MaxWakingUp)
            ArmWakeTimer();
    }

    /// <summary>A reply to the coordinator's own request: when it was a wake-up, the next due workflow may wake.</summary>
    private void Woke(string workflowId, Action log)
    {
        log();
        if (_wakingUp.Remove(workflowId))
            OnWakeDue();
    }

    private void ArmWakeTimer()
    {
        if (_wakeUps.Count == 0)
            return;
        var due = _wakeUps.Min.Due;
        if (_wakeTimerDue is { } armed && armed <= due)
            return;
        _wakeTimer?.Dispose();
        _wakeTimerDue = due;
        var self = Self;
        _wakeTimer = ClockTimer.At(_runtime.Clock, due, TimeSpan.FromDays(30), () => self.Tell(WakeDue.Instance));
    }

    protected override void PostStop()
    {
        _runtime.IdleMemory?.Changed(-_workflows.Count);
        _wakeTimer?.Dispose();
        _recheckTimer?.Dispose();
        foreach (var timer in _later)
            timer.Dispose();
        base.PostStop();
    }

    // Callers waiting for a workflow's end (WorkflowClient handles), by workflow id. Kept here, not by the workflow's
    // actor, so that a workflow that waits for days is still put away and passivated. A caller that stops waiting
    // takes its watch back, so that only waiting callers are kept.
    private readonly Dictionary<string, List<Watcher>> _watchers = new(StringComparer.Ordinal);

    private readonly record struct Watcher(IActorRef Caller, string? WatchId);

    private void OnWatch(WatchWorkflow watch, IActorRef caller)
    {
        if (_handingOff)
        {
            HandOn(caller, watch);
            return;
        }
        if (!_watchers.TryGetValue(watch.WorkflowId, out var watchers))
            _watchers[watch.WorkflowId] = watchers = [];
        // A watch handed on twice (a resend whose first copy arrived) is kept once.
        var watcher = new Watcher(caller, watch.WatchId);
        if (!watchers.Contains(watcher))
            watchers.Add(watcher);
        // The workflow may have ended already: its actor says how it stands (the answer comes back here).
        Self.Tell(new ReportEnd(watch.WorkflowId));
    }

    private void OnUnwatch(UnwatchWorkflow unwatch, IActorRef caller)
    {
        // A watch that came in during a hand-off went on to the new home at once: so does its unwatch.
        if (_handingOff)
        {
            HandOn(caller, unwatch);
            return;
        }
        if (!_watchers.TryGetValue(unwatch.WorkflowId, out var watchers))
            return;
        watchers.RemoveAll(w => w.WatchId == unwatch.WatchId);
        if (watchers.Count == 0)
            _watchers.Remove(unwatch.WorkflowId);
    }

    // Cluster mode: the children that parents of this bucket wait for, asked again every child-recheck-interval until
    // their end reaches the parent (a child's message to its parent is lost when the child's node dies at that moment).
    private readonly Dictionary<string, HashSet<string>> _childrenAwaited = new(StringComparer.Ordinal);
    private ITimer? _recheckTimer;

    private void OnRecheckChild(RecheckChild recheck)
    {
        if (_runtime.ChildRecheckAfter is not { } every || _handingOff)
            return;
        if (!_childrenAwaited.TryGetValue(recheck.ParentId, out var children))
            _childrenAwaited[recheck.ParentId] = children = new HashSet<string>(StringComparer.Ordinal);
        children.Add(recheck.ChildId);
        if (_recheckTimer is null)
        {
            var self = Self;
            _recheckTimer = _runtime.Clock.CreateTimer(_ => self.Tell(RecheckChildren.Instance), null, every, every);
        }
    }

    private void AskChildrenAgain()
    {
        foreach (var children in _childrenAwaited.Values)
        {
            foreach (var child in children)
                _runtime.Coordinator.Tell(new ReportToParent(child, RunOn: false), ActorRefs.Nobody);
        }
        if (_childrenAwaited.Count == 0)
        {
            _recheckTimer?.Dispose();
            _recheckTimer = null;
        }
    }

    private void ForgetRecheck(string parentId, string? childId = null)
    {
        if (!_childrenAwaited.TryGetValue(parentId, out var children))
            return;
        if (childId is null)
            children.Clear();
        else
            children.Remove(childId);
        if (children.Count == 0)
            _childrenAwaited.Remove(parentId);
    }

    private sealed class RecheckChildren
    {
        public static RecheckChildren Instance { get; } = new();

        private RecheckChildren() { }
    }

    private void OnWorkflowEnded(WorkflowEnded ended)
    {
        if (ended.Reply is not WorkflowWaiting)
            ForgetRecheck(ended.WorkflowId);
        // A run that ends while it still runs on (a put-away workflow is not ended): only ends answer watchers.
        if (ended.Reply is WorkflowWaiting || !_watchers.Remove(ended.WorkflowId, out var watchers))
            return;
        foreach (var watcher in watchers)
            watcher.Caller.Tell(ended.Reply);
    }

    private sealed class WakeDue
    {
        public static WakeDue Instance { get; } = new();

        private WakeDue() { }
    }

    private sealed class Entry(IActorRef supervisor, WorkflowRequests requests)
    {
        public IActorRef Supervisor { get; } = supervisor;
        public WorkflowRequests Requests { get; } = requests;
        public bool Passivating { get; set; }
    }

    private static string? InvalidId(string? id) => id switch
    {
        null or "" => "the workflow id is empty",
        { Length: > MaxWorkflowIdLength } => $"the workflow id is longer than {MaxWorkflowIdLength} characters",
        _ when id.Any(char.IsControl) => "the workflow id contains control characters",
        _ when id.Trim() != id => "the workflow id starts or ends with white space",
        _ => null,
    };

    // The ids of a bulk purge under way (PurgeEndedWorkflows), each with the requests that came for it meanwhile.
    private readonly Dictionary<string, List<(IActorRef Sender, IWorkflowCommand Command)>> _purging = new(StringComparer.Ordinal);

    /// <summary>
    /// The retention sweep's purge of workflows it found ended: those no actor holds are deleted by the journal's writer
    /// directly, in few transactions, each only if its index row still says it ended (no actor to start, no journal to
    /// read); requests for them wait meanwhile. Those an actor holds (or a bulk purge already takes) are answered as
    /// held, for a <see cref="PurgeWorkflow"/> each. One machine only: a cluster's sweep purges through the actors.
    /// </summary>
    private void OnPurgeEnded(PurgeEndedWorkflows purge)
    {
        var held = purge.WorkflowIds.Where(id => _workflows.ContainsKey(id) || _leftBehind.ContainsKey(id) || _purging.ContainsKey(id)).ToList();
        if (_owns is not null || Storage.JournalAccess.Get(Context.System).Current is not { } journal)
        {
            Sender.Tell(new EndedWorkflowsPurged([], purge.WorkflowIds));
            return;
        }
        var quiet = purge.WorkflowIds.Except(held, StringComparer.Ordinal).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in quiet)
            _purging[id] = [];
        var (self, sender) = (Self, Sender);
        journal.Writer.PurgeEndedAsync(quiet).ContinueWith(
            t => self.Tell(new BulkPurgeEnded(sender, quiet, held, t.IsCompletedSuccessfully ? t.Result : null, t.Exception?.GetBaseException())),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void OnBulkPurgeEnded(BulkPurgeEnded ended)
    {
        foreach (var id in ended.Ids)
        {
            if (_purging.Remove(id, out var requests))
            {
                foreach (var (sender, command) in requests)
                    Self.Tell(command, sender);
            }
        }
        if (ended.Error is { } error)
        {
            _log.Warning("Retention: {0} workflows were not purged: {1}", ended.Ids.Count, error.Message);
            ended.Sender.Tell(new Status.Failure(error));
            return;
        }
        foreach (var id in ended.Purged!)
            _log.Debug("Workflow [{0}] was purged", id);
        ended.Sender.Tell(new EndedWorkflowsPurged(ended.Purged!, ended.Held));
    }

    private sealed record BulkPurgeEnded(IActorRef Sender, IReadOnlyList<string> Ids, IReadOnlyList<string> Held, IReadOnlyList<string>? Purged, Exception? Error);

    private sealed record PendingWorkflowsFound(IReadOnlyList<(string WorkflowId, DateTimeOffset? WakeAt)> Workflows);
}
