using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Durable.Actors.Runtime;

namespace Durable.Actors.Cluster;

/// <summary>
/// The zombie-step rule on a cluster: a step left IN_PROGRESS by another node incarnation runs again at once only when
/// the cluster has removed that incarnation (it is neither a member nor unreachable any more: downed by the split-brain
/// resolver and gone, or restarted with a new uid). A node that is up, unreachable, leaving, exiting or down but not yet
/// removed may still be running the step, so the stale timeout decides as on one machine.
/// </summary>
internal sealed class NodeMembership(Akka.Cluster.Cluster cluster) : INodeMembership
{
    public string SelfNode { get; } = Format(cluster.SelfUniqueAddress);

    public static string Format(UniqueAddress node) =>
        node.Address.ToString() + "#" + node.Uid.ToString(CultureInfo.InvariantCulture);

    public bool IsRemoved(string node)
    {
        var state = cluster.State;
        return !state.Members.Any(m => Format(m.UniqueAddress) == node)
            && !state.Unreachable.Any(m => Format(m.UniqueAddress) == node);
    }
}
