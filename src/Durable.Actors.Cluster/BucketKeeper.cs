using Akka.Actor;
using Durable.Actors.Runtime;

namespace Durable.Actors.Cluster;

/// <summary>
/// Asks every bucket to exist, now and every <c>ensure-buckets-interval</c>: a bucket's coordinator recovers its
/// unfinished workflows (and their timers) when it starts, so this is recovery-on-start for the cluster. Each bucket
/// lives on one node at a time, so each workflow is resumed once, by one node; when that node is lost, the next ask
/// after the cluster removed it starts the bucket on a survivor, which recovers it again. An ask to a bucket that
/// exists does nothing.
/// </summary>
internal sealed class BucketKeeper : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    private readonly TimeSpan _interval;
    private readonly TimeSpan _after;

    public BucketKeeper(IActorRef region, int buckets, TimeSpan interval, TimeSpan after)
    {
        _interval = interval;
        _after = after;
        Receive<Up>(_ => Timers.StartPeriodicTimer("ensure-buckets", Tick.Instance, _after, _interval));
        Receive<Tick>(_ =>
        {
            for (var bucket = 0; bucket < buckets; bucket++)
                region.Tell(new EnsureBucket(bucket), ActorRefs.NoSender);
        });
    }

    // The first asks wait until this node is up and then `ensure-buckets-after`: on a cold start of several nodes their
    // shard regions have all registered by then, so the buckets are spread over them instead of all landing on the
    // first node to register.
    protected override void PreStart()
    {
        var self = Self;
        Akka.Cluster.Cluster.Get(Context.System).RegisterOnMemberUp(() => self.Tell(Up.Instance));
    }

    private sealed class Up
    {
        public static Up Instance { get; } = new();

        private Up() { }
    }

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();

        private Tick() { }
    }
}
