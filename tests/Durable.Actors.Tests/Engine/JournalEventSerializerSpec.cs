using System.Globalization;
using Akka.Serialization;
using Durable.Actors.Journal;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

public sealed class JournalEventSerializerSpec(ITestOutputHelper output) : EngineSpec(output)
{
    public static TheoryData<object> Events => new()
    {
        new WorkflowStarted("onboarding", "{\"name\":\"Ada\"}", DateTimeOffset.Parse("2026-11-25T10:00:00.1234567+01:00", CultureInfo.InvariantCulture)),
        new StepStarted("wf-1:3", "provision-access", 2, DateTimeOffset.UnixEpoch),
        new StepCompleted("wf-1:3", "[\"email\",\"chat\"]", DateTimeOffset.MaxValue),
        new StepFailed("wf-1:3", "InvalidOperationException: no", DateTimeOffset.MinValue),
        new RunCompleted("null", DateTimeOffset.UnixEpoch),
        new RunFailed("step 'x' failed", DateTimeOffset.UnixEpoch),
        // A workflow with a deadline: the start and its waits carry it (absent, the events are written as before).
        new WorkflowStarted("booking", "null", DateTimeOffset.UnixEpoch, Deadline: DateTimeOffset.UnixEpoch.AddHours(1)),
        new TimerStarted("wf-1:2", DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1)),
        new SignalWaitStarted("wf-1:3", "approve", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1)),
        new WaitCancelled("wf-1:3", DateTimeOffset.UnixEpoch),
        new RunPaused(null, DateTimeOffset.UnixEpoch),
        new RunPaused("audit", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1)),
        new RunUnpaused(DateTimeOffset.UnixEpoch),
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void ToBinary_EachJournalEvent_RoundTripsThroughTheEngineSerializer(object journalEvent)
    {
        var serializer = Assert.IsType<JournalEventSerializer>(Sys.Serialization.FindSerializerFor(journalEvent));
        var manifest = serializer.Manifest(journalEvent);
        var bytes = serializer.ToBinary(journalEvent);

        Assert.Equal(2, manifest.Length);
        Assert.Equal(journalEvent, serializer.FromBinary(bytes, manifest));
        Assert.DoesNotContain("Durable.Actors", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void ToBinary_CompletionsCarriedByAStart_RoundTripInOneEvent()
    {
        var completed = new[] { new StepCompleted("wf-1:1", "1", DateTimeOffset.UnixEpoch), new StepCompleted("wf-1:2.1", "{\"a\":2}", DateTimeOffset.MaxValue) };
        var advanced = new StepsCompletedThenStarted(completed, new StepStarted("wf-1:3", "send-email", 1, DateTimeOffset.UnixEpoch));
        var serializer = Assert.IsType<JournalEventSerializer>(Sys.Serialization.FindSerializerFor(advanced));

        var read = Assert.IsType<StepsCompletedThenStarted>(serializer.FromBinary(serializer.ToBinary(advanced), serializer.Manifest(advanced)));

        Assert.Equal("CJ", serializer.Manifest(advanced));
        Assert.Equal(completed, read.Completed);
        Assert.Equal(advanced.Started, read.Started);
    }

    [Fact]
    public void FromBinary_UnknownManifest_FailsNamingIt()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(StepStarted));

        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "ZZ"));
        Assert.Contains("'ZZ'", error.Message);
    }

    [Fact]
    public void ToBinary_LongPayload_WrittenInSegments_SameBytesAsInOnePiece_AndReadBack()
    {
        // Quotes, HTML-sensitive and non-ASCII characters, and a surrogate pair across each 2,048-character segment boundary.
        var chunk = "\"<a href='x'>caf\u00e9</a>\" " + new string('x', 2023) + "\U0001F600";
        Assert.Equal(2048, chunk.Length);
        var payload = "\"" + string.Concat(Enumerable.Repeat(chunk, 60)) + "\"";
        var received = new SignalReceived("decision", payload, DateTimeOffset.UnixEpoch);
        var serializer = Assert.IsType<JournalEventSerializer>(Sys.Serialization.FindSerializerFor(received));

        var bytes = serializer.ToBinary(received);

        Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(received, System.Text.Json.JsonSerializerOptions.Web), bytes);
        Assert.Equal(received, serializer.FromBinary(bytes, serializer.Manifest(received)));
    }

    [Fact]
    public void ToBinary_LongStepResult_StoredAsItsJson_ReadBackTheSame()
    {
        var result = "[" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"caf\u00e9 {i} \U0001F600\"")) + "]";
        var completed = new StepCompleted("wf-1:1", result, DateTimeOffset.UnixEpoch, "List<string>");
        var serializer = Assert.IsType<JournalEventSerializer>(Sys.Serialization.FindSerializerFor(completed));

        var bytes = serializer.ToBinary(completed);

        Assert.InRange(bytes.Length, System.Text.Encoding.UTF8.GetByteCount(result), System.Text.Encoding.UTF8.GetByteCount(result) + 120);
        Assert.Equal(completed, serializer.FromBinary(bytes, serializer.Manifest(completed)));
    }
}
