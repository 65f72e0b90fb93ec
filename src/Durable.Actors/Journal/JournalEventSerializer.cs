using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace Durable.Actors.Journal;

// Compact JSON with short manifests, instead of Akka's default Newtonsoft serializer that writes .NET type names
// into the journal. Manifests are part of the stored format: never change or reuse one.
// Results (a step's, a run's) are stored as the JSON they are, not as a JSON string that holds them escaped (where a
// quote took six bytes): "SJ", "CJ" and "RJ" replace "SC", "CS" and "RC", which stay readable (RawJsonEvents).
internal sealed class JournalEventSerializer : SerializerWithStringManifest
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new SegmentedStringConverter() } };

    public JournalEventSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>The serializer id stored with every event it writes (the journal's <c>identifier</c> column).</summary>
    public const int Id = 4711;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        WorkflowStarted => "WS",
        BranchesReserved => "BR",
        StepStarted => "SS",
        StepCompleted => "SJ",
        StepsCompletedThenStarted => "CJ",
        StepFailed => "SF",
        StepHeartbeated => "SH",
        RunResumed => "RR",
        RunCompleted => "RJ",
        RunFailed => "RF",
        TimerStarted => "TS",
        TimerFired => "TF",
        SignalReceived => "SR",
        SignalWaitStarted => "SW",
        SignalWaitEnded => "SE",
        WaitCancelled => "WC",
        CancelRequested => "CR",
        RunCancelled => "RX",
        RunPaused => "PA",
        RunUnpaused => "UP",
        _ => throw new ArgumentException($"Cannot serialize {o.GetType().FullName} with {nameof(JournalEventSerializer)}.", nameof(o)),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        StepCompleted or StepsCompletedThenStarted or RunCompleted => RawJsonEvents.Write((IJournalEvent)obj, Json),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json),
    };

    public override object FromBinary(byte[] bytes, string manifest) => Read(bytes, manifest);

    /// <summary>The event stored as <paramref name="bytes"/> with <paramref name="manifest"/>, without an ActorSystem.</summary>
    public static IJournalEvent Read(byte[] bytes, string manifest) => manifest switch
    {
        "WS" => Read<WorkflowStarted>(bytes),
        "BR" => Read<BranchesReserved>(bytes),
        "SS" => Read<StepStarted>(bytes),
        "SJ" => RawJsonEvents.ReadStepCompleted(bytes),
        "CJ" => RawJsonEvents.ReadCompletedThenStarted(bytes, Json),
        "SC" => Read<StepCompleted>(bytes),
        "CS" => Read<StepsCompletedThenStarted>(bytes),
        "SF" => Read<StepFailed>(bytes),
        "SH" => Read<StepHeartbeated>(bytes),
        "RR" => Read<RunResumed>(bytes),
        "RJ" => RawJsonEvents.ReadRunCompleted(bytes),
        "RC" => Read<RunCompleted>(bytes),
        "RF" => Read<RunFailed>(bytes),
        "TS" => Read<TimerStarted>(bytes),
        "TF" => Read<TimerFired>(bytes),
        "SR" => Read<SignalReceived>(bytes),
        "SW" => Read<SignalWaitStarted>(bytes),
        "SE" => Read<SignalWaitEnded>(bytes),
        "WC" => Read<WaitCancelled>(bytes),
        "CR" => Read<CancelRequested>(bytes),
        "RX" => Read<RunCancelled>(bytes),
        "PA" => Read<RunPaused>(bytes),
        "UP" => Read<RunUnpaused>(bytes),
        _ => throw new SerializationException($"Unknown journal event manifest '{manifest}': was this journal written by a newer Durable.Actors?"),
    };

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes, Json) ?? throw new SerializationException($"Empty {typeof(T).Name} event in the journal.");
}

/// <summary>
/// Writes a long string value (a run's input, a signal's payload) in segments, each escaped on its own; the bytes are
/// the same as in one piece. Results are not strings in the stored events (<see cref="RawJsonEvents"/>).
/// </summary>
/// <remarks>
/// In one piece, System.Text.Json escapes a string (stored JSON has quotes to escape) in a buffer of six characters
/// per character rented from <c>ArrayPool&lt;char&gt;.Shared</c>: 2 MiB for a 100 KB string, which the
/// pool then keeps in the cache of each thread that wrote one, well after the workflow's actor stopped (the pool lets
/// it go only after tens of seconds of full collections). A segment's buffer is a few KB.
/// </remarks>
internal sealed class SegmentedStringConverter : JsonConverter<string>
{
    private const int SegmentLength = 2048;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString();

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        if (value.Length <= SegmentLength)
        {
            writer.WriteStringValue(value);
            return;
        }
        var rest = value.AsSpan();
        while (rest.Length > SegmentLength)
        {
            writer.WriteStringValueSegment(rest[..SegmentLength], isFinalSegment: false);
            rest = rest[SegmentLength..];
        }
        writer.WriteStringValueSegment(rest, isFinalSegment: true);
    }
}
