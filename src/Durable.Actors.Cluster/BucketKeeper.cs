using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
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

    private static readonly TimeSpan RegionsCheck = TimeSpan.FromMilliseconds(250);

    private readonly IActorRef _region;
    private readonly string _role;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _after;
    private DateTime _upAt;

    public BucketKeeper(IActorRef region, string role, int buckets, TimeSpan interval, TimeSpan after)
    {
        _region = region;
        _role = role;
        _interval = interval;
        _after = after;
        Receive<Up>(_ =>
        {
            _upAt = DateTime.UtcNow;
            Timers.StartPeriodicTimer("regions", CheckRegions.Instance, TimeSpan.Zero, RegionsCheck);
        });
        Receive<CheckRegions>(_ =>
        {
            if (DateTime.UtcNow - _upAt >= _after)
                StartEnsuring();
            else
                _region.Tell(GetCurrentRegions.Instance);
        });
        Receive<CurrentRegions>(current =>
        {
            var members = Akka.Cluster.Cluster.Get(Context.System).State.Members.Count(m => m.Status == MemberStatus.Up && m.HasRole(_role));
            if (Timers.IsTimerActive("regions") && current.Regions.Count >= members)
                StartEnsuring();
        });
        Receive<Tick>(_ =>
        {
            for (var bucket = 0; bucket < buckets; bucket++)
                region.Tell(new EnsureBucket(bucket), ActorRefs.NoSender);
        });
    }

    private void StartEnsuring()
    {
        Timers.Cancel("regions");
        Timers.StartPeriodicTimer("ensure-buckets", Tick.Instance, TimeSpan.Zero, _interval);
    }

    // The first asks wait until this node is up and the shard region of every workflow node that is up has registered
    // with the shard coordinator, at most `ensure-buckets-after`: a node's region registers a while after the node is up
    // (it checks its database first, and the coordinator starts on the oldest node), and a bucket goes to a region that
    // has registered. On a cold start of several nodes (see the CLI's --min-nodes) the buckets then spread over all of
    // them instead of landing on the first to register, where they would stay until sharding's rebalance moved them.
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

    private sealed class CheckRegions
    {
        public static CheckRegions Instance { get; } = new();

        private CheckRegions() { }
    }

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();

        private Tick() { }
    }
}
