using Akka;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Durable.Actors.Runtime;

namespace Durable.Actors.Cluster;

/// <summary>
/// Sends again what a moving bucket handed on (<see cref="HandedOn"/>) until the workflow's new home acknowledges it.
/// Sharding delivers at most once: a region drops the messages it buffered for a bucket when that bucket is handed off
/// again before they reached it (it moved to a node that joined and on at the next rebalance), and a caller waiting on
/// such a request would never be answered. The bucket sends each request once itself; this actor, which outlives the
/// bucket, sends it again every second through this node's shard region, or through another workflow node's once this
/// node's region has stopped (it leaves), for at most two minutes. A leaving node waits for its acknowledgements in
/// the <c>cluster-exiting</c> phase of its coordinated shutdown.
/// </summary>
internal sealed class HandOnRelay : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    private static readonly TimeSpan ResendEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);
    private const int EarlyAcksKept = 1_000;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, (HandedOn Message, DateTime Since)> _pending = new(StringComparer.Ordinal);
    // Acknowledgements that came before their TrackHandOn (the bucket tells this actor and the region at once).
    private readonly HashSet<string> _earlyAcks = new(StringComparer.Ordinal);
    private readonly Queue<string> _earlyAckOrder = new();
    private readonly List<IActorRef> _awaitingNone = [];
    private readonly IActorRef _region;
    private readonly string _role;
    private readonly string _typeName;
    private bool _regionStopped;

    public HandOnRelay(IActorRef region, string role, string typeName)
    {
        _region = region;
        _role = role;
        _typeName = typeName;
        Receive<TrackHandOn>(track =>
        {
            if (_earlyAcks.Remove(track.Message.Id))
                return;
            _pending[track.Message.Id] = (track.Message, DateTime.UtcNow);
            if (!Timers.IsTimerActive("resend"))
                Timers.StartPeriodicTimer("resend", Resend.Instance, ResendEvery);
        });
        Receive<HandOnReceived>(ack =>
        {
            if (!_pending.Remove(ack.Id))
            {
                _earlyAcks.Add(ack.Id);
                _earlyAckOrder.Enqueue(ack.Id);
                if (_earlyAckOrder.Count > EarlyAcksKept)
                    _earlyAcks.Remove(_earlyAckOrder.Dequeue());
            }
            IfNonePending();
        });
        Receive<Resend>(_ => SendAgain());
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_region))
                _regionStopped = true;
        });
        Receive<AwaitNonePending>(_ =>
        {
            _awaitingNone.Add(Sender);
            IfNonePending();
        });
    }

    protected override void PreStart() => Context.Watch(_region);

    private void SendAgain()
    {
        var now = DateTime.UtcNow;
        foreach (var (id, (message, since)) in _pending.ToList())
        {
            if (now - since > GiveUpAfter)
            {
                _pending.Remove(id);
                _log.Warning("Gave up handing on {0} for workflow [{1}] to its new home: no acknowledgement in {2} s; its caller is not answered",
                    message.Message.GetType().Name, message.WorkflowId, GiveUpAfter.TotalSeconds);
                continue;
            }
            if (Route() is { } route)
                route.Tell(message, Self);
        }
        IfNonePending();
    }

    /// <summary>This node's region while it runs; once it has stopped (the node leaves), another workflow node's, which routes it on.</summary>
    private ICanTell? Route()
    {
        if (!_regionStopped)
            return _region;
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        var others = cluster.State.Members
            .Where(m => m.Status == MemberStatus.Up && m.HasRole(_role) && !m.Address.Equals(cluster.SelfAddress))
            .ToList();
        if (others.Count == 0)
            return null;
        var member = others[Random.Shared.Next(others.Count)];
        return Context.ActorSelection(new RootActorPath(member.Address) / "system" / "sharding" / _typeName);
    }

    private void IfNonePending()
    {
        if (_pending.Count > 0)
            return;
        Timers.Cancel("resend");
        foreach (var waiter in _awaitingNone)
            waiter.Tell(Done.Instance);
        _awaitingNone.Clear();
    }

    private sealed class Resend
    {
        public static Resend Instance { get; } = new();

        private Resend() { }
    }

    /// <summary>Answered <see cref="Done"/> once nothing handed on waits for its acknowledgement.</summary>
    internal sealed class AwaitNonePending
    {
        public static AwaitNonePending Instance { get; } = new();

        private AwaitNonePending() { }
    }
}
