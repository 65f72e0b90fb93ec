using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using Durable.Actors.Runtime;

namespace Durable.Actors.Cluster;

/// <summary>
/// The engine's messages between nodes: compact JSON with short, stable manifests instead of Akka's default
/// Newtonsoft serializer, which writes .NET type names. Manifests are a wire format shared by every node of a
/// cluster: never change or reuse one (a new shape gets a new manifest).
/// </summary>
internal sealed class ClusterMessageSerializer : SerializerWithStringManifest
{
    public const int Id = 4712;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Manifest → type, the one table both directions read.
    private static readonly (string Manifest, Type Type)[] Types =
    [
        ("start", typeof(StartWorkflow)),
        ("resume", typeof(ResumeWorkflow)),
        ("status?", typeof(GetWorkflowStatus)),
        ("signal", typeof(SignalWorkflow)),
        ("cancel", typeof(CancelWorkflow)),
        ("pause", typeof(PauseWorkflow)),
        ("unpause", typeof(UnpauseWorkflow)),
        ("purge", typeof(PurgeWorkflow)),
        ("begin", typeof(BeginWorkflow)),
        ("fork", typeof(ForkWorkflow)),
        ("begin-fork", typeof(BeginFork)),
        ("report-end", typeof(ReportEnd)),
        ("child-ended", typeof(ChildWorkflowEnded)),
        ("report-to-parent", typeof(ReportToParent)),
        ("watch", typeof(WatchWorkflow)),
        ("unwatch", typeof(UnwatchWorkflow)),
        ("bucket", typeof(EnsureBucket)),
        ("completed", typeof(WorkflowCompleted)),
        ("failed", typeof(WorkflowFailed)),
        ("rejected", typeof(WorkflowRejected)),
        ("not-found", typeof(WorkflowNotFound)),
        ("status", typeof(WorkflowStatus)),
        ("waiting", typeof(WorkflowWaiting)),
        ("cancelled", typeof(WorkflowCancelled)),
        ("signal-delivered", typeof(SignalDelivered)),
        ("cancel-requested", typeof(CancellationRequested)),
        ("paused", typeof(WorkflowPaused)),
        ("unpaused", typeof(WorkflowUnpaused)),
        ("purged", typeof(WorkflowPurged)),
        ("begun", typeof(WorkflowBegun)),
        ("reported-to-parent", typeof(ReportedToParent)),
        ("still-running", typeof(StillRunning)),
        ("hand-on", typeof(HandedOn)),
        ("hand-on-received", typeof(HandOnReceived)),
        ("enqueue", typeof(EnqueueWorkflow)),
        ("enqueued", typeof(WorkflowEnqueued)),
        ("admit", typeof(AdmitWorkflow)),
        ("admitted", typeof(WorkflowAdmitted)),
        ("enqueued-cancelled", typeof(EnqueuedWorkflowCancelled)),
        ("slot-released", typeof(SlotReleased)),
        ("queue-entry", typeof(Queues.QueueDispatcher.Enqueued)),
        ("queue-entry-moved", typeof(Queues.QueueDispatcher.Rescheduled)),
        ("schedule-changed", typeof(Scheduling.Scheduler.Load)),
        ("cancel-child", typeof(CancelChildWorkflow)),
    ];

    private static readonly Dictionary<Type, string> ManifestOf = Types.ToDictionary(t => t.Type, t => t.Manifest);
    private static readonly Dictionary<string, Type> TypeOf = Types.ToDictionary(t => t.Manifest, t => t.Type, StringComparer.Ordinal);

    /// <summary>The types this serializer carries, for the serialization bindings.</summary>
    public static IEnumerable<Type> Bound => Types.Select(t => t.Type);

    public ClusterMessageSerializer(ExtendedActorSystem system) : base(system) { }

    public override int Identifier => Id;

    public override string Manifest(object o) => ManifestOf.TryGetValue(o.GetType(), out var manifest)
        ? manifest
        : throw new ArgumentException($"Cannot serialize {o.GetType().FullName} with {nameof(ClusterMessageSerializer)}.", nameof(o));

    public override byte[] ToBinary(object obj) => obj is HandedOn handed
        ? JsonSerializer.SerializeToUtf8Bytes(new HandedOnWire(handed.Id, handed.WorkflowId, Manifest(handed.Message),
            JsonSerializer.SerializeToElement(handed.Message, handed.Message.GetType(), Json), Akka.Serialization.Serialization.SerializedActorPath(handed.Caller)), Json)
        : JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypeOf.TryGetValue(manifest, out var type))
            throw new SerializationException($"Unknown message manifest '{manifest}': does another node run a newer Durable.Actors?");
        if (type == typeof(HandedOn))
        {
            var wire = JsonSerializer.Deserialize<HandedOnWire>(bytes, Json) ?? throw new SerializationException($"Empty '{manifest}' message.");
            var inner = TypeOf.TryGetValue(wire.Manifest, out var innerType)
                ? wire.Message.Deserialize(innerType, Json) ?? throw new SerializationException($"Empty '{wire.Manifest}' message handed on.")
                : throw new SerializationException($"Unknown message manifest '{wire.Manifest}' handed on: does another node run a newer Durable.Actors?");
            return new HandedOn(wire.Id, wire.WorkflowId, inner, system.Provider.ResolveActorRef(wire.Caller));
        }
        return JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"Empty '{manifest}' message.");
    }

    /// <summary>A handed-on request on the wire: the request under its own manifest, and the path of the caller it answers.</summary>
    private sealed record HandedOnWire(string Id, string WorkflowId, string Manifest, JsonElement Message, string Caller);
}
