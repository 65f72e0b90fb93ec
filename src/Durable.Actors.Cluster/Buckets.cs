using Akka.Cluster.Sharding;
using Durable.Actors.Runtime;

namespace Durable.Actors.Cluster;

/// <summary>
/// Workflow ids hashed into a fixed number of buckets. Each bucket is one sharded entity, a workflow coordinator that
/// hosts the actors of its ids, so the cluster's single-writer guarantee (one live entity per id, anywhere) holds for
/// every workflow. The hash is FNV-1a over the id's UTF-16 code units: the same in every process and version
/// (never <c>string.GetHashCode</c>, which is randomized per process).
/// </summary>
internal sealed class Buckets(int count) : HashCodeMessageExtractor(count)
{
    public int Count { get; } = count;

    public int Of(string? workflowId) => string.IsNullOrEmpty(workflowId)
        ? 0 // the coordinator there rejects the empty id
        : (int)(Hash(workflowId) % (uint)Count);

    /// <summary>FNV-1a over the id's UTF-16 code units; the workflow index on PostgreSQL stores it, so that a bucket reads only its own ids.</summary>
    public static uint Hash(string workflowId)
    {
        var hash = 2166136261u;
        foreach (var c in workflowId)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return hash;
    }

    /// <summary>A bucket is its own shard (Akka's default would hash the 32 bucket ids into fewer shards, 20 here, unevenly).</summary>
    public override string ShardId(string entityId, object? messageHint = null) => entityId;

    /// <summary>The same as <see cref="ShardId(string, object?)"/>, for Akka's callers of this older overload.</summary>
    [Obsolete("Akka.NET's older overload; see ShardId(string, object?).")]
    public override string? ShardId(object message) => EntityId(message);

    public override string EntityId(object message) => message switch
    {
        IWorkflowCommand command => Of(command.WorkflowId).ToString(System.Globalization.CultureInfo.InvariantCulture),
        WatchWorkflow watch => Of(watch.WorkflowId).ToString(System.Globalization.CultureInfo.InvariantCulture),
        UnwatchWorkflow unwatch => Of(unwatch.WorkflowId).ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Answered by the queues' client of the node that hosts the id's bucket (any node would do).
        EnqueueWorkflow enqueue => Of(enqueue.WorkflowId).ToString(System.Globalization.CultureInfo.InvariantCulture),
        HandedOn handed => Of(handed.WorkflowId).ToString(System.Globalization.CultureInfo.InvariantCulture),
        EnsureBucket bucket => bucket.Bucket.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null!,
    };
}
