using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// The requests to one workflow that wait for a reply, kept by the coordinator across incarnations of the workflow's
/// actor. An actor that stops on a journal failure releases them; its next incarnation takes them up again after
/// recovery, so the run carries on and no request is left without a reply. When the supervisor gives up, the
/// coordinator answers them all with the failure.
/// </summary>
/// <remarks>Incarnations never overlap, but the coordinator adds requests while an actor works: every member locks.</remarks>
internal sealed class WorkflowRequests
{
    private readonly Lock _gate = new();
    private readonly List<Request> _requests = [];
    private readonly HashSet<string> _startedHere = new(StringComparer.Ordinal);
    private string? _stopCause;

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

    public IReadOnlyList<string> StepsStartedHere()
    {
        lock (_gate)
            return [.. _startedHere];
    }

    /// <summary>The actor recorded something again after a failure stopped it.</summary>
    public void Progressed()
    {
        lock (_gate)
            _stopCause = null;
    }

    public void Add(IActorRef sender, IWorkflowCommand command)
    {
        lock (_gate)
            _requests.Add(new Request(sender, command));
    }

    /// <summary>Takes up <paramref name="command"/> in this incarnation; false when it was answered or is already taken up.</summary>
    public bool Claim(IWorkflowCommand command)
    {
        lock (_gate)
        {
            var request = _requests.Find(r => ReferenceEquals(r.Command, command));
            if (request is null || request.Claimed)
                return false;
            request.Claimed = true;
            return true;
        }
    }

    /// <summary>Answers the request of <paramref name="command"/> alone.</summary>
    public void Answer(IWorkflowCommand command, object reply)
    {
        IActorRef? sender = null;
        lock (_gate)
        {
            var index = _requests.FindIndex(r => ReferenceEquals(r.Command, command));
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

    /// <summary>Hands every request back for the next incarnation, in arrival order.</summary>
    public void Release(string cause)
    {
        lock (_gate)
        {
            _stopCause = cause;
            foreach (var request in _requests)
                request.Claimed = false;
        }
    }

    public IReadOnlyList<IWorkflowCommand> Pending()
    {
        lock (_gate)
            return _requests.Select(r => r.Command).ToList();
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

    private sealed class Request(IActorRef sender, IWorkflowCommand command)
    {
        public IActorRef Sender { get; } = sender;
        public IWorkflowCommand Command { get; } = command;
        public bool Claimed { get; set; }
    }
}
