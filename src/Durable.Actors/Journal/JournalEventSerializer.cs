using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Durable.Actors.Journal;

// Compact JSON with short manifests, instead of Akka's default Newtonsoft serializer that writes .NET type names
// into the journal. Manifests are part of the stored format: never change or reuse one.
internal sealed class JournalEventSerializer : SerializerWithStringManifest
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public JournalEventSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>The serializer id stored with every event it writes (the journal's <c>identifier</c> column).</summary>
    public const int Id = 4711;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        WorkflowStarted => "WS",
        BranchesReserved => "BR",
        StepStarted => "SS",
        StepCompleted => "SC",
        StepsCompletedThenStarted => "CS",
        StepFailed => "SF",
        RunResumed => "RR",
        RunCompleted => "RC",
        RunFailed => "RF",
        TimerStarted => "TS",
        TimerFired => "TF",
        SignalReceived => "SR",
        SignalWaitStarted => "SW",
        SignalWaitEnded => "SE",
        CancelRequested => "CR",
        RunCancelled => "RX",
        _ => throw new ArgumentException($"Cannot serialize {o.GetType().FullName} with {nameof(JournalEventSerializer)}.", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest) => Read(bytes, manifest);

    /// <summary>
    /// The bytes <paramref name="json"/> takes inside a stored event, where it is a JSON string property (a step's or a
    /// run's result, a signal's payload), without its quotes: escaped by the serializer's encoder, a quote takes six
    /// bytes (<c>\u0022</c>), a character outside ASCII six (twelve outside the BMP).
    /// </summary>
    public static long StoredSize(string json) => JsonSerializer.SerializeToUtf8Bytes(json, Json).LongLength - 2;

    /// <summary>The event stored as <paramref name="bytes"/> with <paramref name="manifest"/>, without an ActorSystem.</summary>
    public static IJournalEvent Read(byte[] bytes, string manifest) => manifest switch
    {
        "WS" => Read<WorkflowStarted>(bytes),
        "BR" => Read<BranchesReserved>(bytes),
        "SS" => Read<StepStarted>(bytes),
        "SC" => Read<StepCompleted>(bytes),
        "CS" => Read<StepsCompletedThenStarted>(bytes),
        "SF" => Read<StepFailed>(bytes),
        "RR" => Read<RunResumed>(bytes),
        "RC" => Read<RunCompleted>(bytes),
        "RF" => Read<RunFailed>(bytes),
        "TS" => Read<TimerStarted>(bytes),
        "TF" => Read<TimerFired>(bytes),
        "SR" => Read<SignalReceived>(bytes),
        "SW" => Read<SignalWaitStarted>(bytes),
        "SE" => Read<SignalWaitEnded>(bytes),
        "CR" => Read<CancelRequested>(bytes),
        "RX" => Read<RunCancelled>(bytes),
        _ => throw new SerializationException($"Unknown journal event manifest '{manifest}': was this journal written by a newer Durable.Actors?"),
    };

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes, Json) ?? throw new SerializationException($"Empty {typeof(T).Name} event in the journal.");
}
