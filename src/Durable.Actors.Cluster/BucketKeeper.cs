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

    public BucketKeeper(IActorRef region, int buckets, TimeSpan interval)
    {
        _interval = interval;
        Receive<Tick>(_ =>
        {
            for (var bucket = 0; bucket < buckets; bucket++)
                region.Tell(new EnsureBucket(bucket), ActorRefs.NoSender);
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("ensure-buckets", Tick.Instance, TimeSpan.Zero, _interval);

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();

        private Tick() { }
    }
}
