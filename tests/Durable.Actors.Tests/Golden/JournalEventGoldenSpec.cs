using Durable.Actors.Journal;
using Xunit;

namespace Durable.Actors.Tests.Golden;

/// <summary>
/// The stored format of every journal event, pinned: today's serializer writes exactly the checked-in bytes
/// (<c>Golden/events/&lt;manifest&gt;.json</c>) and reads them back equal. A failure here means journals written
/// before the change may no longer read: change the format only on purpose (src/Durable.Actors/Journal/README.md, "Stored format").
/// </summary>
public sealed class JournalEventGoldenSpec
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 10, 0, 0, 123, TimeSpan.FromHours(1));

    private static readonly StepCompleted Completed = new("wf-1:2.1", "{\"serial\":\"L-1\",\"price\":1299.99}", At, "Shop.Laptop");

    private static readonly StepStarted Started = new("wf-1:3", "provision-access", 2, At.AddTicks(4567));

    private static readonly StepsCompletedThenStarted CompletedThenStarted =
        new([Completed, new StepCompleted("wf-1:2.2", "null", DateTimeOffset.UnixEpoch)], Started);

    private static readonly RunCompleted RunCompleted = new("\"done\"", DateTimeOffset.MaxValue);

    /// <summary>
    /// The events written with their result escaped in a JSON string, before results were stored as JSON: no longer
    /// written, read as they always were.
    /// </summary>
    private static readonly Dictionary<string, IJournalEvent> Legacy = new()
    {
        ["SC"] = Completed,
        ["CS"] = CompletedThenStarted,
        ["RC"] = RunCompleted,
    };

    /// <summary>One event of each type, by its manifest.</summary>
    private static readonly Dictionary<string, IJournalEvent> Events = new()
    {
        ["WS"] = new WorkflowStarted("onboarding", "{\"name\":\"Zoë\",\"tags\":[\"a\",\"<b>\"]}", At, "wf-0"),
        ["BR"] = new BranchesReserved("wf-1:2", 3, At),
        ["SS"] = Started,
        ["SJ"] = Completed,
        ["CJ"] = CompletedThenStarted,
        ["SF"] = new StepFailed("wf-1:3", "InvalidOperationException: card declined \"4242\"", At),
        ["SH"] = new StepHeartbeated("wf-1:3", 2, At, "{\"file\":17,\"name\":\"Zoë.pdf\"}"),
        ["RR"] = new RunResumed(At),
        ["RJ"] = RunCompleted,
        ["RF"] = new RunFailed("step 'charge' (wf-1:4) failed: HttpRequestException: 503", DateTimeOffset.MinValue),
        ["TS"] = new TimerStarted("wf-1:5", At.AddDays(90), At),
        ["TF"] = new TimerFired("wf-1:5", At.AddDays(90)),
        ["SR"] = new SignalReceived("decision", "{\"approved\":true,\"by\":\"Zoë\"}", At),
        ["SW"] = new SignalWaitStarted("wf-1:6", "decision", At.AddDays(3), At),
        ["SE"] = new SignalWaitEnded("wf-1:6", "{\"approved\":true,\"by\":\"Zoë\"}", false, At),
        ["WC"] = new WaitCancelled("wf-1:7.1", At),
        ["CR"] = new CancelRequested("customer changed their mind", At),
        ["RX"] = new RunCancelled(null, At),
        ["PA"] = new RunPaused("audit", At, At.AddDays(7)),
        ["UP"] = new RunUnpaused(At.AddHours(1)),
    };

    private static readonly JournalEventSerializer Serializer = new(null!);

    public static TheoryData<string> Manifests => [.. Events.Keys];

    public static TheoryData<string> LegacyManifests => [.. Legacy.Keys];

    [Theory]
    [MemberData(nameof(Manifests))]
    public void ToBinary_EachJournalEvent_WritesExactlyTheGoldenBytesAndReadsThemBackEqual(string manifest)
    {
        var journalEvent = Events[manifest];
        var golden = File.ReadAllBytes(GoldenFiles.Output($"events/{manifest}.json"));

        Assert.Equal(manifest, Serializer.Manifest(journalEvent));
        Assert.Equal(System.Text.Encoding.UTF8.GetString(golden), System.Text.Encoding.UTF8.GetString(Serializer.ToBinary(journalEvent)));
        Assert.Equal(golden, Serializer.ToBinary(journalEvent));
        AssertReads(journalEvent, golden, manifest);
    }

    [Theory]
    [MemberData(nameof(LegacyManifests))]
    public void FromBinary_EventsWrittenBeforeRawJsonResults_ReadAsTheyWere(string manifest) =>
        AssertReads(Legacy[manifest], File.ReadAllBytes(GoldenFiles.Output($"events/{manifest}.json")), manifest);

    [Fact]
    public void ToBinary_StepResult_IsStoredAsItsJson_AndReadBackAsTheSameText()
    {
        // Whitespace, escapes and a non-ASCII character inside the result stay exactly as the step produced them.
        var completed = new StepCompleted("wf-1:1", "{ \"quote\": \"\\\"\", \"café\": [1, 2.50] }", At);
        var bytes = Serializer.ToBinary(completed);

        Assert.Contains("\"result\":{ \"quote\"", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(completed, Serializer.FromBinary(bytes, Serializer.Manifest(completed)));
    }

    private static void AssertReads(IJournalEvent journalEvent, byte[] golden, string manifest)
    {
        var read = Serializer.FromBinary(golden, manifest);
        if (read is StepsCompletedThenStarted advanced && journalEvent is StepsCompletedThenStarted expected)
        {
            Assert.Equal(expected.Completed, advanced.Completed);
            Assert.Equal(expected.Started, advanced.Started);
        }
        else
            Assert.Equal(journalEvent, read);
    }

    [Fact]
    public void Events_EveryJournalEventType_HasAGoldenFile()
    {
        var types = typeof(IJournalEvent).Assembly.GetTypes()
            .Where(t => typeof(IJournalEvent).IsAssignableFrom(t) && !t.IsInterface)
            .Select(t => t.Name)
            .Order();

        Assert.Equal(types, Events.Values.Select(e => e.GetType().Name).Order());
        Assert.Equal(Events.Keys.Concat(Legacy.Keys).Order(), Directory.GetFiles(GoldenFiles.Output("events")).Select(Path.GetFileNameWithoutExtension).Order());
    }

    [Fact]
    public void Regenerate_WhenAskedByTheEnvironment_WritesTheGoldenEvents()
    {
        if (!GoldenFiles.Regenerate)
            return;
        Directory.CreateDirectory(GoldenFiles.Source("events"));
        foreach (var (manifest, journalEvent) in Events)
            File.WriteAllBytes(GoldenFiles.Source($"events/{manifest}.json"), Serializer.ToBinary(journalEvent));
    }
}
