using Durable.Actors.Decisions;
using Durable.Actors.Journal;
using Xunit;

namespace Durable.Actors.Tests.Decisions;

/// <summary>
/// The decider alone, without an ActorSystem: a journal built from events, a call of the workflow's code, the decision.
/// The workflow actor and the offline replay check both act on these decisions.
/// </summary>
public sealed class WorkflowDeciderSpec
{
    private const string Id = "wf";
    private static readonly DateTimeOffset At = new(2026, 12, 6, 8, 0, 0, TimeSpan.Zero);

    private static WorkflowJournal Journal(params IJournalEvent[] events)
    {
        var journal = new WorkflowJournal();
        journal.Apply(new WorkflowStarted("t", "null", At));
        foreach (var e in events)
            journal.Apply(e);
        return journal;
    }

    private static IJournalEvent[] Completed(string key, string stepId, string resultJson = "1") =>
        [new StepStarted(key, stepId, 1, At), new StepCompleted(key, resultJson, At, "System.Int32")];

    private static IJournalEvent[] Marker(string key, string patchId) =>
        [new StepStarted(key, PatchMarkers.StepId(patchId), 1, At), new StepCompleted(key, "true", At, "System.Boolean")];

    private static readonly Dictionary<string, (IJournalEvent[] Recorded, string Expected)> StepTable = new()
    {
        ["nothing recorded: runs as attempt 1"] = ([], "run 1"),
        ["completed, same step: replays its result"] = (Completed("wf:1", "charge", "42"), "replay 42"),
        ["completed, another step: conflict naming it"] = (Completed("wf:1", "reserve"), "conflict step 'reserve'"),
        ["failed: runs again as the next attempt"] = ([new StepStarted("wf:1", "charge", 2, At), new StepFailed("wf:1", "boom", At)], "run 3 after failed"),
        ["in progress: the zombie rule decides"] = ([new StepStarted("wf:1", "charge", 1, At)], "in progress 1"),
        ["a timer there"] = ([new TimerStarted("wf:1", At.AddHours(1), At)], "conflict a timer"),
        ["a signal wait there"] = ([new SignalWaitStarted("wf:1", "approve", null, At)], "conflict a wait for signal 'approve'"),
        ["a parallel block's branch there"] = ([new BranchesReserved("wf:1", 2, At)], "conflict a parallel branch"),
    };

    public static TheoryData<string> Steps => new(StepTable.Keys);

    [Theory]
    [MemberData(nameof(Steps))]
    public void Step_ChargeAtTheFirstKey(string because)
    {
        var (recorded, expected) = StepTable[because];
        var decider = new WorkflowDecider(Id, Journal(recorded));
        var key = decider.Key("", decider.Reserve("", 1));
        Assert.Equal("wf:1", key);
        var decision = decider.DecideStep(key, "charge", At, "node-1") switch
        {
            StepCall.Run { Failed: null, Started: var started } => $"run {started.Attempt}" + Mismatch(started, key),
            StepCall.Run { Started: var started } => $"run {started.Attempt} after failed" + Mismatch(started, key),
            StepCall.Replay replay => $"replay {replay.Step.ResultJson}",
            StepCall.InProgress progress => $"in progress {progress.Step.Attempts}",
            StepCall.Conflict conflict => $"conflict {conflict.Recorded.Describe()}",
            var other => other.ToString(),
        };
        Assert.True(expected == decision, $"{because}: expected '{expected}', got '{decision}'");
    }

    /// <summary>Empty when the step to run is recorded at its key, as step 'charge', by the node, at the time asked; else what differs.</summary>
    private static string Mismatch(StepStarted started, string key) =>
        started == new StepStarted(key, "charge", started.Attempt, At, "node-1") ? "" : $" recorded as {started}";

    [Fact]
    public void StepConflict_NamesTheRecordedStepIdForTheNondeterminismError()
    {
        var decider = new WorkflowDecider(Id, Journal(Completed("wf:1", "reserve")));
        var conflict = Assert.IsType<StepCall.Conflict>(decider.DecideStep("wf:1", "charge", At, null));
        Assert.Equal(("wf:1", "reserve"), (conflict.Recorded.Key, conflict.Recorded.Name));
    }

    [Fact]
    public void Keys_InCallOrderPerScope_BranchScopesApart()
    {
        var decider = new WorkflowDecider(Id, Journal());
        Assert.Equal(1, decider.Reserve("", 1));
        Assert.Equal(2, decider.Reserve("", 3));
        Assert.Equal(5, decider.Reserve("", 1));
        Assert.Equal(1, decider.Reserve("2.", 1));
        Assert.Equal("wf:2.1", decider.Key("2.", 1));
        Assert.Equal(6, decider.Reserve("", 1));
    }

    [Fact]
    public void Keys_StepOverTheMarkersOfPatchesTheCodeNoLongerAsksFor()
    {
        var decider = new WorkflowDecider(Id, Journal([.. Completed("wf:1", "a"), .. Marker("wf:2", "old-fix"), .. Marker("wf:3", "older-fix"), .. Completed("wf:4", "b")]));
        Assert.Equal(1, decider.Reserve("", 1));
        Assert.Equal(4, decider.Reserve("", 1));
        Assert.IsType<StepCall.Replay>(decider.DecideStep("wf:4", "b", At, null));
    }

    private static readonly Dictionary<string, (IJournalEvent[] Recorded, string Expected)> PatchTable = new()
    {
        ["nothing recorded: the new path, its marker to write at wf:1"] = ([], "New wf:1, next wf:2"),
        ["its marker recorded: the new path, replayed"] = (Marker("wf:1", "fix"), "Recorded wf:1, next wf:2"),
        ["another patch's marker, then its own"] = ([.. Marker("wf:1", "gone"), .. Marker("wf:2", "fix")], "Recorded wf:2, next wf:3"),
        ["the old code's step: the old path, the key stays"] = (Completed("wf:1", "charge"), "OldPath wf:1, next wf:1"),
        ["the old code's timer: the old path"] = ([new TimerStarted("wf:1", At, At)], "OldPath wf:1, next wf:1"),
        ["the old code's parallel block: the old path"] = ([new BranchesReserved("wf:1", 2, At)], "OldPath wf:1, next wf:1"),
    };

    public static TheoryData<string> Patches => new(PatchTable.Keys);

    [Theory]
    [MemberData(nameof(Patches))]
    public void Patch_AskedFirst(string because)
    {
        var (recorded, expected) = PatchTable[because];
        var decider = new WorkflowDecider(Id, Journal(recorded));
        var patch = decider.DecidePatch("", "fix", At);
        // The next call's key: markers are stepped over here too.
        var next = decider.Key("", decider.Reserve("", 1));
        var decision = $"{patch.Outcome} {patch.Key}, next {next}";
        // Only the new path records something: its marker, a completed step at its key.
        IJournalEvent[] marker = patch.Outcome == PatchOutcome.New
            ? [new StepStarted(patch.Key, PatchMarkers.StepId("fix"), 1, At), new StepCompleted(patch.Key, "true", At, "System.Boolean")]
            : [];
        Assert.Equal(marker, patch.Events);
        Assert.True(expected == decision, $"{because}: expected '{expected}', got '{decision}'");
    }

    private static readonly CancelRequested Cancel = new("no longer needed", At);

    private static readonly Dictionary<string, (IJournalEvent[] Recorded, string? Signal, string Expected)> WaitTable = new()
    {
        ["nothing recorded: the timer begins"] = ([], null, "begin a timer at wf:1 due 2026-12-06T09:00:00.0000000+00:00, recorded 2026-12-06T08:00:00.0000000+00:00"),
        ["nothing recorded: the signal wait begins"] = ([], "approve", "begin a wait for 'approve' at wf:1 until 2026-12-06T08:30:00.0000000+00:00, recorded 2026-12-06T08:00:00.0000000+00:00"),
        ["the same timer, not fired: goes on"] = ([new TimerStarted("wf:1", At, At)], null, "resume"),
        ["the same timer, fired: replays as fired"] = ([new TimerStarted("wf:1", At, At), new TimerFired("wf:1", At)], null, "ended"),
        ["the same signal wait, open: goes on"] = ([new SignalWaitStarted("wf:1", "approve", null, At)], "approve", "resume"),
        ["the same signal wait, signalled: replays"] = ([new SignalWaitStarted("wf:1", "approve", null, At), new SignalWaitEnded("wf:1", "true", false, At)], "approve", "ended"),
        ["cancellation recorded, nothing at the key: cancelled"] = ([Cancel], null, "cancelled"),
        ["cancellation recorded, the timer open: cancelled"] = ([new TimerStarted("wf:1", At, At), Cancel], null, "cancelled"),
        ["cancellation recorded after the timer fired: replays as fired"] = ([new TimerStarted("wf:1", At, At), new TimerFired("wf:1", At), Cancel], null, "ended"),
        ["the same timer, cancelled through its token: replays as cancelled"] = ([new TimerStarted("wf:1", At, At), new WaitCancelled("wf:1", At)], null, "cancelled"),
        ["the same signal wait, cancelled through its token: replays as cancelled"] = ([new SignalWaitStarted("wf:1", "approve", null, At), new WaitCancelled("wf:1", At)], "approve", "cancelled"),
        ["a cancelled wait for another signal"] = ([new SignalWaitStarted("wf:1", "reject", null, At), new WaitCancelled("wf:1", At)], "approve", "conflict a wait for signal 'reject'"),
        ["a wait for another signal"] = ([new SignalWaitStarted("wf:1", "reject", null, At)], "approve", "conflict a wait for signal 'reject'"),
        ["a timer where the code waits for a signal"] = ([new TimerStarted("wf:1", At, At)], "approve", "conflict a timer"),
        ["a step there"] = (Completed("wf:1", "charge"), null, "conflict step 'charge'"),
        ["a parallel block's branch there"] = ([new BranchesReserved("wf:1", 2, At)], null, "conflict a parallel branch"),
    };

    public static TheoryData<string> Waits => new(WaitTable.Keys);

    private static string Text(DateTimeOffset? time) => time?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "never";

    /// <summary>A timer due in an hour, or a signal wait that times out in half an hour, asked at the first key.</summary>
    [Theory]
    [MemberData(nameof(Waits))]
    public void Wait_AtTheFirstKey(string because)
    {
        var (recorded, signal, expected) = WaitTable[because];
        var decider = new WorkflowDecider(Id, Journal(recorded));
        var call = signal is null
            ? decider.DecideTimer("wf:1", At.AddHours(1), At)
            : decider.DecideSignalWait("wf:1", signal, TimeSpan.FromMinutes(30), At);
        var decision = call switch
        {
            WaitCall.Begin { Started: TimerStarted t } => $"begin a timer at {t.Key} due {Text(t.WakeAt)}, recorded {Text(t.At)}",
            WaitCall.Begin { Started: SignalWaitStarted w } => $"begin a wait for '{w.Name}' at {w.Key} until {Text(w.TimeoutAt)}, recorded {Text(w.At)}",
            WaitCall.Resume => "resume",
            WaitCall.Ended => "ended",
            WaitCall.Cancelled => "cancelled",
            WaitCall.Conflict conflict => $"conflict {conflict.Recorded.Describe()}",
            var other => other.ToString(),
        };
        Assert.True(expected == decision, $"{because}: expected '{expected}', got '{decision}'");
    }

    private static readonly Dictionary<string, (IJournalEvent[] Recorded, string Expected)> BlockTable = new()
    {
        ["nothing recorded: the block begins"] = (Completed("wf:1", "a"), "begin"),
        ["the same block: replayed"] = ([new BranchesReserved("wf:2", 3, At)], "replay"),
        ["a block of 2 branches"] = ([new BranchesReserved("wf:2", 2, At)], "conflict at wf:2: a parallel block of 2 branches"),
        ["a step at its second key"] = (Completed("wf:3", "b"), "conflict at wf:3: step 'b'"),
        ["a timer at its last key"] = ([new TimerStarted("wf:4", At, At)], "conflict at wf:4: a timer"),
        ["a branch of an earlier block at its first key"] = ([new BranchesReserved("wf:1", 2, At)], "conflict at wf:2: a branch of another parallel block"),
    };

    public static TheoryData<string> Blocks => new(BlockTable.Keys);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Block_OfThreeBranchesAtTheSecondKey(string because)
    {
        var (recorded, expected) = BlockTable[because];
        var decider = new WorkflowDecider(Id, Journal(recorded));
        decider.Reserve("", 1);
        var first = decider.Reserve("", 3);
        var keys = Enumerable.Range(first, 3).Select(n => decider.Key("", n)).ToList();
        Assert.Equal(["wf:2", "wf:3", "wf:4"], keys);
        var decision = decider.DecideBlock(keys, At) switch
        {
            BlockCall.Begin begin when begin.Reserved == new BranchesReserved("wf:2", 3, At) => "begin",
            BlockCall.Replay => "replay",
            BlockCall.Conflict conflict => $"conflict at {conflict.Recorded.Key}: {conflict.Recorded.Describe()}",
            var other => other.ToString(),
        };
        Assert.True(expected == decision, $"{because}: expected '{expected}', got '{decision}'");
    }
}
