using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// The heartbeats of one attempt of a step with a heartbeat timeout (<see cref="StepOptions.HeartbeatTimeout"/>): each
/// one puts off the attempt's silence timer, on the workflow clock, which cancels <see cref="Token"/> when it fires. A
/// heartbeat is sent to the workflow's actor to be recorded at most every third of the timeout; one that comes sooner
/// is recorded at the end of that interval (with the latest details), or by <see cref="Flush"/> when the attempt fails.
/// </summary>
internal sealed class StepHeartbeats : IDisposable
{
    /// <summary>The largest heartbeat details, as UTF-8 JSON.</summary>
    public const int MaxDetailsBytes = 16 * 1024;

    private readonly object _gate = new();
    private readonly IActorRef _actor;
    private readonly int _runId;
    private readonly string _key;
    private readonly int _attempt;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _silence = new();
    private readonly CancellationTokenSource _attemptToken;
    private readonly ITimer _silenceTimer;
    private ITimer? _later;
    private DateTimeOffset _lastSent = DateTimeOffset.MinValue;
    private DateTimeOffset _lastBeat;
    private bool _unsent;
    private bool _ended;

    public StepHeartbeats(IActorRef actor, int runId, string key, int attempt, TimeProvider clock, TimeSpan timeout, CancellationToken bodyToken, CancellationToken runToken)
    {
        _actor = actor;
        _runId = runId;
        _key = key;
        _attempt = attempt;
        _clock = clock;
        _timeout = timeout;
        _interval = timeout / 3;
        _attemptToken = CancellationTokenSource.CreateLinkedTokenSource(bodyToken, _silence.Token, runToken);
        var silence = _silence;
        _silenceTimer = clock.CreateTimer(_ =>
        {
            try
            {
                silence.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The attempt ended as the timer fired.
            }
        }, null, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The body's token: cancelled when the heartbeats stop for the timeout, when the body's own token is, and when the
    /// run's actor stopped (its heartbeats can no longer be recorded, so another host may run the step after the timeout).
    /// </summary>
    public CancellationToken Token => _attemptToken.Token;

    /// <summary>Whether the heartbeats stopped for the timeout.</summary>
    public bool Silent => _silence.IsCancellationRequested;

    /// <summary>The details of this attempt's last heartbeat with details; null when it sent none.</summary>
    public string? LastDetails { get; private set; }

    public void Beat(string? details)
    {
        lock (_gate)
        {
            if (_ended || _silence.IsCancellationRequested)
                return;
            _silenceTimer.Change(_timeout, Timeout.InfiniteTimeSpan);
            if (details is not null)
                LastDetails = details;
            _unsent = true;
            var now = _lastBeat = _clock.GetUtcNow();
            if (now - _lastSent >= _interval)
                Send(now);
            else
                _later ??= _clock.CreateTimer(_ => Flush(), null, _lastSent + _interval - now, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sends the heartbeat not sent yet, if any: before the attempt's failure is recorded, so that the next attempt reads its details.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            _later?.Dispose();
            _later = null;
            if (_unsent && !_ended)
                Send(_clock.GetUtcNow());
        }
    }

    /// <summary>Records the heartbeat not sent yet as of when it came; the next one may be sent an interval after now.</summary>
    private void Send(DateTimeOffset now)
    {
        _lastSent = now;
        _unsent = false;
        _actor.Tell(new RecordHeartbeat(_runId, _key, _attempt, LastDetails, _lastBeat));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _ended = true;
            _later?.Dispose();
            _silenceTimer.Dispose();
        }
        _attemptToken.Dispose();
        _silence.Dispose();
    }
}
