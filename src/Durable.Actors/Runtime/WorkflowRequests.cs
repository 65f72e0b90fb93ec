using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// What outlives one incarnation of a workflow's actor, kept by the coordinator: the requests waiting for a reply, the
/// completions of steps whose bodies returned but are not durable yet, and the steps this host started. An actor that
/// stops on a failure releases the requests; its next incarnation writes the pending completions first, then takes
/// the requests up again, so the run carries on, no request is left without a reply and no step whose body returned
/// runs again. When the supervisor gives up, the coordinator answers the requests with the failure.
/// </summary>
/// <remarks>
/// Incarnations never overlap, but the coordinator adds requests and runs add completions while an actor works:
/// every member locks. A request is known by the id the coordinator gave it, never by its message object: the same
/// command sent twice is two requests, and the id survives serialization.
/// </remarks>
internal sealed class WorkflowRequests
{
    private readonly Lock _gate = new();
    private readonly List<Request> _requests = [];
    private readonly List<PendingCompletion> _completions = [];
    private readonly HashSet<string> _startedHere = new(StringComparer.Ordinal);
    // The step bodies running in this process, by key; a body's completion source is made only when someone waits for it.
    private readonly Dictionary<string, TaskCompletionSource?> _bodiesRunning = new(StringComparer.Ordinal);
    private long _lastRequestId;
    private string? _stopCause;
    private bool _passivating;
    private bool _runLost;
    private bool _handingOff;
    private int _incarnation;

    /// <summary>
    /// An actor of this workflow begins (in its constructor, before it recovers) and returns its number: step bodies of
    /// the runs of earlier actors no longer start (<see cref="BodyStarting"/>), so each decision on a step sees every
    /// body that may still run.
    /// </summary>
    public int BeginIncarnation()
    {
        lock (_gate)
            return ++_incarnation;
    }

    /// <summary>
    /// The body of step <paramref name="key"/> is about to run in a run of actor <paramref name="incarnation"/>; false
    /// when a later actor has begun (the body must not start: that actor decides on the step).
    /// </summary>
    public bool BodyStarting(string key, int incarnation)
    {
        lock (_gate)
        {
            if (incarnation != _incarnation)
                return false;
            _bodiesRunning[key] = null;
            return true;
        }
    }

    /// <summary>The body of step <paramref name="key"/> ended, and its completion (if it returned) is pending here.</summary>
    public void BodyEnded(string key)
    {
        TaskCompletionSource? ended;
        lock (_gate)
            _bodiesRunning.Remove(key, out ended);
        ended?.TrySetResult();
    }

    /// <summary>
    /// No step body of the runs of the current actor starts any more (a hand-off drains it): from now on the bodies
    /// running are all there will be.
    /// </summary>
    public void CloseBodies()
    {
        lock (_gate)
            _incarnation++;
    }

    /// <summary>Ends when every step body of this workflow running in this process now has ended.</summary>
    public Task BodiesEnded()
    {
        lock (_gate)
            return _bodiesRunning.Count == 0 ? Task.CompletedTask : Task.WhenAll(_bodiesRunning.Keys.ToList().Select(WhenEnded));
    }

    /// <summary>The keys of the steps an actor of this workflow in this host started and did not end (see <see cref="StepStarted"/>).</summary>
    public IReadOnlyList<string> StartedHereKeys()
    {
        lock (_gate)
            return [.. _startedHere];
    }

    /// <summary>Whether a step body of this workflow runs in this process.</summary>
    public bool HasBodiesRunning
    {
        get
        {
            lock (_gate)
                return _bodiesRunning.Count > 0;
        }
    }

    /// <summary>Ends when the body of step <paramref name="key"/> that runs in this process ends; null when none runs.</summary>
    public Task? BodyRunning(string key)
    {
        lock (_gate)
            return _bodiesRunning.ContainsKey(key) ? WhenEnded(key) : null;
    }

    /// <summary>The completion source of a running body's end, made on first need (under the lock).</summary>
    private Task WhenEnded(string key)
    {
        var ended = _bodiesRunning[key] ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return ended.Task;
    }

    /// <summary>
    /// Whether an actor stopped by a failure had a run going, which its next actor must begin again (whether or not a
    /// request waits on it); cleared when a run begins.
    /// </summary>
    public bool RunLost
    {
        get
        {
            lock (_gate)
                return _runLost;
        }
        set
        {
            lock (_gate)
                _runLost = value;
        }
    }

    /// <summary>Why the last incarnation stopped, when a failure stopped it.</summary>
    public string? StopCause
    {
        get
        {
            lock (_gate)
                return _stopCause;
        }
    }

    /// <summary>
    /// Keys of steps an incarnation of this workflow's actor in this host started and did not end. A later incarnation
    /// finding one IN_PROGRESS knows the run that started it died with the previous incarnation.
    /// </summary>
    public void StepStarted(string key)
    {
        lock (_gate)
            _startedHere.Add(key);
    }

    public void StepEnded(string key)
    {
        lock (_gate)
            _startedHere.Remove(key);
    }

    public bool StartedHere(string key)
    {
        lock (_gate)
            return _startedHere.Contains(key);
    }

    /// <summary>
    /// Set when the workflow's bucket moves to another node (cluster mode): its actor drains and stops, and its requests
    /// are handed to the workflow's new home (<see cref="TakeAll"/>) instead of being answered here.
    /// </summary>
    public bool HandingOff
    {
        get
        {
            lock (_gate)
                return _handingOff;
        }
        set
        {
            lock (_gate)
                _handingOff = value;
        }
    }

    /// <summary>Set by the coordinator when it stops the workflow's actor to passivate it: requests then wait for the next actor.</summary>
    public bool Passivating
    {
        get
        {
            lock (_gate)
                return _passivating;
        }
        set
        {
            lock (_gate)
                _passivating = value;
        }
    }

    /// <summary>Whether anything waits here: a request, a completion, a step started here. An actor passivates only when nothing does.</summary>
    public bool HasWaiting
    {
        get
        {
            lock (_gate)
                return _requests.Count > 0 || _completions.Count > 0 || _startedHere.Count > 0 || _runLost;
        }
    }

    /// <summary>Whether completions or steps started here are left for a next actor of this workflow.</summary>
    public bool HasLeftovers
    {
        get
        {
            lock (_gate)
                return _completions.Count > 0 || _startedHere.Count > 0;
        }
    }

    /// <summary>A step's body returned: its completion waits here until a write of the actor carries it.</summary>
    public void AddCompletion(PendingCompletion completion)
    {
        lock (_gate)
            _completions.Add(completion);
    }

    /// <summary>
    /// Hands over a value recorded by a run of actor <paramref name="incarnation"/> (see <see cref="PendingCompletion.Recorded"/>);
    /// false when a later actor has begun, which decides on the key itself.
    /// </summary>
    public bool AddRecorded(PendingCompletion completion, int incarnation)
    {
        lock (_gate)
        {
            if (incarnation != _incarnation)
                return false;
            _completions.Add(completion);
            return true;
        }
    }

    /// <summary>Whether <paramref name="completion"/> is still waiting to be written.</summary>
    public bool IsPending(PendingCompletion completion)
    {
        lock (_gate)
            return _completions.Contains(completion);
    }

    /// <summary>Whether any completion waits to be written.</summary>
    public bool HasPendingCompletions
    {
        get
        {
            lock (_gate)
                return _completions.Count > 0;
        }
    }

    /// <summary>The completions waiting to be written, oldest first; they stay here until <see cref="RemoveCompletions"/>.</summary>
    public IReadOnlyList<PendingCompletion> PendingCompletions()
    {
        lock (_gate)
            return _completions.Count == 0 ? [] : [.. _completions];
    }

    /// <summary>Forgets completions that are durable now, or that no longer apply.</summary>
    public void RemoveCompletions(IReadOnlyList<PendingCompletion> completions)
    {
        if (completions.Count == 0)
            return;
        lock (_gate)
        {
            foreach (var completion in completions)
                _completions.Remove(completion);
        }
    }

    /// <summary>The actor recorded something again after a failure stopped it.</summary>
    public void Progressed()
    {
        lock (_gate)
            _stopCause = null;
    }

    /// <summary>Keeps a request from <paramref name="sender"/> and returns the message the workflow's actor gets.</summary>
    public WorkflowRequest Add(IActorRef sender, IWorkflowCommand command)
    {
        lock (_gate)
        {
            var request = new WorkflowRequest(++_lastRequestId, command);
            _requests.Add(new Request(sender, request));
            return request;
        }
    }

    /// <summary>Takes up <paramref name="request"/> in this incarnation; false when it was answered or is already taken up.</summary>
    public bool Claim(WorkflowRequest request)
    {
        lock (_gate)
        {
            var found = _requests.Find(r => r.Message.RequestId == request.RequestId);
            if (found is null || found.Claimed)
                return false;
            found.Claimed = true;
            return true;
        }
    }

    /// <summary>Answers <paramref name="request"/> alone.</summary>
    public void Answer(WorkflowRequest request, object reply)
    {
        IActorRef? sender = null;
        lock (_gate)
        {
            var index = _requests.FindIndex(r => r.Message.RequestId == request.RequestId);
            if (index >= 0)
            {
                sender = _requests[index].Sender;
                _requests.RemoveAt(index);
            }
        }
        sender?.Tell(reply);
    }

    /// <summary>Answers every request taken up in this incarnation: the waiters of the run that just ended.</summary>
    public void AnswerClaimed(object reply) => AnswerWhere(r => r.Claimed, reply);

    public void AnswerAll(object reply) => AnswerWhere(_ => true, reply);

    /// <summary>Hands every request back for the next incarnation, in arrival order; <paramref name="hadRun"/>: see <see cref="RunLost"/>.</summary>
    public void Release(string cause, bool hadRun)
    {
        lock (_gate)
        {
            _stopCause = cause;
            _runLost |= hadRun;
            foreach (var request in _requests)
                request.Claimed = false;
        }
    }

    /// <summary>Takes every request with its sender, in arrival order, answering none (the requests move with a hand-off).</summary>
    public IReadOnlyList<(IActorRef Sender, IWorkflowCommand Command)> TakeAll()
    {
        lock (_gate)
        {
            var all = _requests.Select(r => (r.Sender, r.Message.Command)).ToList();
            _requests.Clear();
            return all;
        }
    }

    public IReadOnlyList<WorkflowRequest> Pending()
    {
        lock (_gate)
            return _requests.Select(r => r.Message).ToList();
    }

    private void AnswerWhere(Predicate<Request> match, object reply)
    {
        List<Request> answered;
        lock (_gate)
        {
            answered = _requests.FindAll(match);
            _requests.RemoveAll(match);
        }
        foreach (var request in answered)
            request.Sender.Tell(reply);
    }

    private sealed class Request(IActorRef sender, WorkflowRequest message)
    {
        public IActorRef Sender { get; } = sender;
        public WorkflowRequest Message { get; } = message;
        public bool Claimed { get; set; }
    }
}

/// <summary>A command the coordinator routes to a workflow's actor, with the id it keeps the request under.</summary>
internal sealed record WorkflowRequest(long RequestId, IWorkflowCommand Command);
