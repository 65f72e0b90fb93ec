namespace Durable.Actors.Journal;

/// <summary>
/// A workflow's state as its journal events build it. The actor applies events on recovery and after each persist;
/// inspection applies the same events read through Akka.Persistence.Query.
/// </summary>
internal sealed class WorkflowJournal
{
    private readonly Dictionary<string, StepEntry> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _blocks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _branchKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WaitEntry> _waits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _signals = new(StringComparer.Ordinal);
    private readonly HashSet<string> _signalDeliveries = new(StringComparer.Ordinal);

    /// <summary>Whether a signal with this delivery id was received already (a resend of it is not delivered again).</summary>
    public bool HasSignalDelivery(string deliveryId) => _signalDeliveries.Contains(deliveryId);
    private readonly Dictionary<string, int> _consumed = new(StringComparer.Ordinal);

    public bool Exists => WorkflowType is not null;
    public string? WorkflowType { get; private set; }

    /// <summary>The workflow that started this one as a child, if one did.</summary>
    public string? ParentId { get; private set; }

    /// <summary>For a child: whether cancelling its parent cancels it; null when not recorded (not a child, or started before it was).</summary>
    public bool? CancelWithParent { get; private set; }

    /// <summary>The workflow this one was forked from (<see cref="ForkWorkflow"/>), if it was.</summary>
    public string? ForkedFrom { get; private set; }

    /// <summary>The source's key this workflow was forked at; null for a fork from the top (or no fork).</summary>
    public string? ForkedFromKey { get; private set; }

    /// <summary>The traceparent of the workflow's first run span, which later runs link to.</summary>
    public string? TraceParent { get; private set; }

    /// <summary>The step id a custom status is recorded under (<see cref="IWorkflowContext.SetCustomStatusAsync{T}"/>).</summary>
    public const string CustomStatusStepId = "durable.custom-status";

    /// <summary>The custom status the workflow set last, as JSON; null when it set none.</summary>
    public string? CustomStatusJson { get; private set; }

    /// <summary>The custom attributes the workflow set (<see cref="IWorkflowContext.SetAttributesAsync"/>); null when it set none.</summary>
    private Dictionary<string, AttributeValue>? _attributes;

    /// <summary>When the workflow is cancelled as timed out if it has not ended; null when it has no deadline.</summary>
    public DateTimeOffset? Deadline { get; private set; }
    public string InputJson { get; private set; } = "null";
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>When each run started: the first start, then every resume.</summary>
    public List<DateTimeOffset> RunStarts { get; } = [];
    public DateTimeOffset? EndedAt { get; private set; }
    public WorkflowRunStatus Status { get; private set; }
    public string? ResultJson { get; private set; }
    public string? Error { get; private set; }

    /// <summary>Whether cancellation was requested (and the workflow has not ended since).</summary>
    public bool CancelRequested { get; private set; }

    /// <summary>The delivery id of the cancel request that was recorded (<see cref="CancelWorkflow.DeliveryId"/>), if it had one.</summary>
    public string? CancelDeliveryId { get; private set; }
    public string? CancelReason { get; private set; }

    /// <summary>Whether the workflow is paused (<see cref="PauseWorkflow"/>): it begins no new operation until unpaused.</summary>
    public bool Paused { get; private set; }

    public string? PauseReason { get; private set; }

    /// <summary>The queue that holds the workflow until it admits it (<see cref="RunPaused.Queue"/>); null once admitted, or never enqueued.</summary>
    public string? Queue { get; private set; }

    /// <summary>The queue that admitted the workflow last (it runs within that queue's limits); null when none did.</summary>
    public string? AdmittedFrom { get; private set; }

    /// <summary>
    /// Whether the workflow, admitted by its queue, gave its slot back while it sleeps
    /// (<see cref="QueueOptions.ReleaseSlotWhileSleeping"/>): held by its queue again until the queue admits it.
    /// </summary>
    public bool SlotReleased => Queue is not null && AdmittedFrom == Queue;

    /// <summary>What a paused or enqueued workflow waits for, as <see cref="WorkflowStatus.WaitingFor"/> and <see cref="WorkflowWaiting"/> say it.</summary>
    public string PauseDescription => Queue is { } queue
        ? SlotReleased
            ? $"sleeping with its slot of queue '{queue}' released (it goes on when its timer is due and the queue admits it)"
            : $"enqueued on queue '{queue}' (it starts when the queue admits it)"
        : DescribePause(PauseReason);

    /// <summary>Whether the workflow ended for good: completed or cancelled (a failed one may be resumed).</summary>
    public bool IsFinal => Status is WorkflowRunStatus.Completed or WorkflowRunStatus.Cancelled;

    /// <summary>The durable wait (timer or signal wait) recorded at <paramref name="key"/>.</summary>
    public bool TryGetWait(string key, out WaitEntry wait) => _waits.TryGetValue(key, out wait!);

    /// <summary>The payload of the next signal named <paramref name="name"/> that no wait consumed yet.</summary>
    public string? NextSignal(string name) =>
        _signals.TryGetValue(name, out var received) && received.Count > _consumed.GetValueOrDefault(name)
            ? received[_consumed.GetValueOrDefault(name)]
            : null;

    public bool TryGetStep(string key, out StepEntry step) => _steps.TryGetValue(key, out step!);

    /// <summary>The child workflows this one started (their start steps completed).</summary>
    public IEnumerable<string> StartedChildren() =>
        _steps.Values.Where(s => s.Status == StepStatus.Completed).Select(s => ChildSignals.StartedBy(s.StepId)).OfType<string>();

    /// <summary>The number of branches of the parallel block whose first branch key is <paramref name="key"/>.</summary>
    public bool TryGetBlock(string key, out int branches) => _blocks.TryGetValue(key, out branches);

    /// <summary>Whether a patch marker is recorded (<see cref="PatchMarkers"/>): only then may a key have to be stepped over.</summary>
    public bool HasPatchMarkers { get; private set; }

    /// <summary>The keys of the recorded durable waits (timers and signal waits).</summary>
    public IEnumerable<string> WaitKeys() => _waits.Keys;

    /// <summary>The first keys of the recorded parallel blocks.</summary>
    public IEnumerable<string> BlockKeys() => _blocks.Keys;

    /// <summary>Whether <paramref name="key"/> was reserved for a branch of a parallel block.</summary>
    public bool IsBranchKey(string key) => _branchKeys.Contains(key);

    public void Apply(IJournalEvent e)
    {
        switch (e)
        {
            case WorkflowStarted s:
                ParentId = s.ParentId;
                CancelWithParent = s.CancelWithParent;
                ForkedFrom = s.ForkedFrom;
                ForkedFromKey = s.ForkedFromKey;
                TraceParent = s.TraceParent;
                Deadline = s.Deadline;
                WorkflowType = s.WorkflowType;
                InputJson = s.InputJson;
                StartedAt = s.At;
                RunStarts.Add(s.At);
                Status = WorkflowRunStatus.Running;
                break;
            case BranchesReserved r:
                _blocks[r.Key] = r.Count;
                for (var i = 0; i < r.Count; i++)
                    _branchKeys.Add(StepKeys.Offset(r.Key, i));
                break;
            case StepStarted s:
                if (!_steps.TryGetValue(s.Key, out var step))
                {
                    step = new StepEntry(s.Key, s.StepId);
                    _steps.Add(s.Key, step);
                    HasPatchMarkers |= PatchMarkers.IsMarker(s.StepId);
                }
                step.Status = StepStatus.InProgress;
                step.Attempts = s.Attempt;
                step.StartedAt = s.At;
                if (_heartbeats?.TryGetValue(s.Key, out var beat) == true)
                    _heartbeats[s.Key] = beat with { At = null };
                step.Node = s.Node;
                step.EndedAt = null;
                step.Error = null;
                // A run that starts a step is running, whatever the previous run ended with.
                Status = WorkflowRunStatus.Running;
                EndedAt = null;
                break;
            case StepCompleted c:
                var completed = _steps[c.Key];
                completed.Status = StepStatus.Completed;
                completed.ResultJson = c.ResultJson;
                completed.ResultType = c.Type;
                completed.EndedAt = c.At;
                // The failures of earlier attempts stay in Failures; a completed step has no error.
                completed.Error = null;
                if (completed.StepId == CustomStatusStepId)
                    CustomStatusJson = c.ResultJson;
                else if (c.Type == AttributeChanges.TypeName)
                    AttributeChanges.Recorded(c)!.ApplyTo(_attributes ??= new Dictionary<string, AttributeValue>(StringComparer.Ordinal));
                break;
            case StepsCompletedThenStarted advanced:
                foreach (var c in advanced.Completed)
                    Apply(c);
                Apply(advanced.Started);
                break;
            case StepFailed f:
                var failed = _steps[f.Key];
                failed.Status = StepStatus.Failed;
                failed.Error = f.Error;
                // A stale attempt was cut short by a crash at an unknown time: the time it was found stale is no end.
                failed.EndedAt = IsStale(f.Error) ? null : f.At;
                // Each attempt keeps its own start: the next attempt's StepStarted replaces the step's.
                failed.Failures.Add(new StepFailure(failed.Attempts, failed.StartedAt, f.At, f.Error));
                break;
            case StepHeartbeated h:
                if (_steps.TryGetValue(h.Key, out var beating))
                {
                    _heartbeats ??= new Dictionary<string, Heartbeat>(StringComparer.Ordinal);
                    var last = _heartbeats.GetValueOrDefault(h.Key);
                    _heartbeats[h.Key] = new Heartbeat(beating.Attempts == h.Attempt ? h.At : last.At, h.Details ?? last.Details);
                }
                break;
            case RunResumed r:
                RunStarts.Add(r.At);
                Status = WorkflowRunStatus.Running;
                EndedAt = null;
                break;
            case RunCompleted r:
                Paused = false;
                Queue = null;
                Status = WorkflowRunStatus.Completed;
                ResultJson = r.ResultJson;
                Error = null;
                EndedAt = r.At;
                break;
            case RunFailed r:
                Paused = false;
                Queue = null;
                Status = WorkflowRunStatus.Failed;
                Error = r.Error;
                EndedAt = r.At;
                break;
            case TimerStarted t:
                _waits[t.Key] = new WaitEntry(t.Key, null, t.WakeAt, t.At);
                break;
            case TimerFired t:
                _waits[t.Key].EndedAt = t.At;
                break;
            case SignalReceived s:
                if (!_signals.TryGetValue(s.Name, out var received))
                    _signals[s.Name] = received = [];
                received.Add(s.PayloadJson);
                if (s.DeliveryId is { } deliveryId)
                    _signalDeliveries.Add(deliveryId);
                break;
            case SignalWaitStarted w:
                _waits[w.Key] = new WaitEntry(w.Key, w.Name, w.TimeoutAt, w.At);
                break;
            case SignalWaitEnded w:
                var wait = _waits[w.Key];
                wait.EndedAt = w.At;
                wait.TimedOut = w.TimedOut;
                wait.PayloadJson = w.PayloadJson;
                if (!w.TimedOut)
                    _consumed[wait.SignalName!] = _consumed.GetValueOrDefault(wait.SignalName!) + 1;
                break;
            case WaitCancelled c:
                _waits[c.Key].EndedAt = c.At;
                _waits[c.Key].Cancelled = true;
                break;
            case CancelRequested c:
                CancelRequested = true;
                CancelReason = c.Reason;
                CancelDeliveryId = c.DeliveryId;
                break;
            case RunPaused p:
                Paused = true;
                PauseReason = p.Reason;
                Queue = p.Queue;
                break;
            case RunUnpaused u:
                Paused = false;
                PauseReason = null;
                AdmittedFrom = Queue ?? AdmittedFrom;
                Queue = null;
                if (u.InputJson is { } input)
                    InputJson = input;
                break;
            case RunCancelled c:
                Paused = false;
                Queue = null;
                Status = WorkflowRunStatus.Cancelled;
                Error = c.Reason is null ? "cancelled" : $"cancelled: {c.Reason}";
                EndedAt = c.At;
                break;
        }
    }

    /// <summary>The history of a workflow that recorded no step, wait or block yet; never applied to.</summary>
    private static readonly WorkflowJournal NoHistory = new();

    /// <summary>
    /// A copy of what a run's code replays from: the steps, waits and blocks recorded, and the patch and cancellation
    /// flags and the deadline, as they stand now. The actor goes on applying events to this journal; the copy is the run's, unchanged.
    /// </summary>
    public WorkflowJournal History()
    {
        if (_steps.Count == 0 && _waits.Count == 0 && _blocks.Count == 0 && !CancelRequested && Deadline is null)
            return NoHistory;
        var copy = new WorkflowJournal { WorkflowType = WorkflowType, HasPatchMarkers = HasPatchMarkers, CancelRequested = CancelRequested, Deadline = Deadline };
        foreach (var (key, step) in _steps)
            copy._steps.Add(key, step.Copy());
        foreach (var (key, wait) in _waits)
            copy._waits.Add(key, wait.Copy());
        foreach (var (key, count) in _blocks)
            copy._blocks.Add(key, count);
        copy._branchKeys.UnionWith(_branchKeys);
        return copy;
    }

    /// <summary>What the workflow waits for, when its last durable wait has not ended and the workflow runs.</summary>
    public string? WaitingFor()
    {
        if (Status != WorkflowRunStatus.Running)
            return null;
        if (Paused)
            return PauseDescription;
        var open = _waits.Values.Where(w => w.EndedAt is null).OrderBy(w => w.Key, StepKeys.Comparer).LastOrDefault();
        return open?.Describe();
    }

    /// <summary>What a paused workflow waits for, as <see cref="WorkflowStatus.WaitingFor"/> and <see cref="WorkflowWaiting"/> say it.</summary>
    public static string DescribePause(string? reason) =>
        (reason is null ? "paused" : $"paused: {reason}") + " (unpause it to go on)";

    /// <summary>The recorded durable waits (timers, signal waits, child waits), in key order.</summary>
    public IReadOnlyList<WaitRecord> Waits() => _waits.Values
        .Select(w => (Sequence: StepKeys.Sequence(w.Key), Wait: w))
        .OrderBy(w => w.Sequence, StepKeys.SequenceComparer)
        .Select(w => WaitRecord.Of(w.Wait.Key, w.Wait.SignalName, w.Wait.StartedAt, w.Wait.DueAt, w.Wait.EndedAt, w.Wait.TimedOut, w.Wait.PayloadJson, w.Wait.Cancelled))
        .ToList();

    /// <summary>Whether a failure's error marks a zombie attempt left by a crash (the engine's <c>stale: …</c> errors).</summary>
    public static bool IsStale(string error) => error.StartsWith("stale:", StringComparison.Ordinal);

    public WorkflowStatus ToStatus(string workflowId) => new(
        workflowId,
        WorkflowType ?? "",
        Status != WorkflowRunStatus.Running || !Paused ? Status : Queue is null ? WorkflowRunStatus.Paused : WorkflowRunStatus.Enqueued,
        StartedAt,
        EndedAt,
        ResultJson,
        Error,
        _steps.Values.OrderBy(s => StepKeys.Sequence(s.Key), StepKeys.SequenceComparer).Select(s => new StepRecord(s.Key, s.StepId, s.Status, s.Attempts, s.StartedAt, s.EndedAt, s.ResultJson, s.Error, s.Failures.ToList())
        {
            LastHeartbeatAt = HeartbeatOf(s.Key).At,
            HeartbeatDetailsJson = HeartbeatOf(s.Key).Details,
        }).ToList())
    {
        WaitingFor = WaitingFor(),
        Deadline = Deadline,
        CustomStatusJson = CustomStatusJson,
        // The one empty instance when none is set: two statuses without attributes compare equal, as records do.
        Attributes = _attributes?.ToDictionary(a => a.Key, a => a.Value.ToObject(), StringComparer.Ordinal)
            ?? (IReadOnlyDictionary<string, object>)System.Collections.ObjectModel.ReadOnlyDictionary<string, object>.Empty,
        ForkedFrom = ForkedFrom,
        ForkedFromKey = ForkedFromKey,
    };

    /// <summary>A durable wait: a timer (<see cref="SignalName"/> null) or a wait for a signal.</summary>
    internal sealed class WaitEntry(string key, string? signalName, DateTimeOffset? dueAt, DateTimeOffset startedAt)
    {
        public string Key { get; } = key;
        public string? SignalName { get; } = signalName;
        /// <summary>When the timer fires or the signal wait times out; null for a signal wait without timeout.</summary>
        public DateTimeOffset? DueAt { get; } = dueAt;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public DateTimeOffset? EndedAt { get; set; }
        public bool TimedOut { get; set; }
        public string? PayloadJson { get; set; }

        /// <summary>Cancelled through its token before it ended (<see cref="WaitCancelled"/>); <see cref="EndedAt"/> is when.</summary>
        public bool Cancelled { get; set; }

        public string Kind => SignalName is null ? "a timer" : $"a wait for signal '{SignalName}'";

        public string Describe() => ChildSignals.Describe(SignalName, DueAt);

        public WaitEntry Copy() => new(Key, SignalName, DueAt, StartedAt) { EndedAt = EndedAt, TimedOut = TimedOut, PayloadJson = PayloadJson, Cancelled = Cancelled };
    }

    // The heartbeats of the steps that sent any (StepHeartbeated), kept apart so that other steps cost nothing more.
    private Dictionary<string, Heartbeat>? _heartbeats;

    /// <summary>
    /// A step's heartbeats: <paramref name="At"/>, when its current attempt last sent one (null when it sent none);
    /// <paramref name="Details"/>, those of its last heartbeat that had details, of any attempt.
    /// </summary>
    internal readonly record struct Heartbeat(DateTimeOffset? At, string? Details);

    /// <summary>The heartbeats of the step at <paramref name="key"/>; empty when it sent none.</summary>
    public Heartbeat HeartbeatOf(string key) => _heartbeats?.GetValueOrDefault(key) ?? default;

    internal sealed class StepEntry(string key, string stepId)
    {
        public string Key { get; } = key;
        public string StepId { get; } = stepId;
        public StepStatus Status { get; set; }
        public int Attempts { get; set; }
        public DateTimeOffset StartedAt { get; set; }
        public string? Node { get; set; }
        public DateTimeOffset? EndedAt { get; set; }
        public string? ResultJson { get; set; }
        public string? ResultType { get; set; }
        public string? Error { get; set; }
        public List<StepFailure> Failures { get; } = [];

        /// <summary>The entry as it stands, without its failures (nothing replays from them).</summary>
        public StepEntry Copy() => new(Key, StepId)
        {
            Status = Status, Attempts = Attempts, StartedAt = StartedAt, Node = Node, EndedAt = EndedAt,
            ResultJson = ResultJson, ResultType = ResultType, Error = Error,
        };
    }
}
