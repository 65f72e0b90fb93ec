using Durable.Actors.Decisions;
using Durable.Actors.Journal;
using Xunit;

namespace Durable.Actors.Tests.Decisions;

/// <summary>
/// What a fork carries, without an ActorSystem: the source's events and a fork point in, the new workflow's first
/// events (or the refusal) out, written here as one short line per event.
/// </summary>
public sealed class ForkPlanSpec
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = At.AddHours(1);

    private static IJournalEvent[] Step(string key, string stepId, string result = "1") =>
        [new StepStarted(key, stepId, 1, At), new StepCompleted(key, result, At)];

    private static IJournalEvent[] Source(params IJournalEvent[][] parts) =>
        [new WorkflowStarted("t", "{\"n\":1}", At), .. parts.SelectMany(p => p), new RunCompleted("3", At)];

    // src: 1 charge, 2 block of two branches (2.1 laptop, 3.1 access), 4 a timer, 5 a wait for "approve", 6 notify.
    private static readonly IJournalEvent[] Onboarding = Source(
        Step("src:1", "charge"),
        [new BranchesReserved("src:2", 2, At)],
        Step("src:2.1", "laptop"),
        Step("src:3.1", "access"),
        [new TimerStarted("src:4", At.AddMinutes(5), At, Deadline: At.AddDays(1)), new TimerFired("src:4", At)],
        [new SignalReceived("approve", "\"yes\"", At), new SignalWaitStarted("src:5", "approve", null, At), new SignalWaitEnded("src:5", "\"yes\"", false, At)],
        Step("src:6", "notify"));

    private static readonly Dictionary<string, (IJournalEvent[] Source, string? From, string Expected)> Table = new()
    {
        ["from the top: the start alone, and the signals for the new waits"] = (Onboarding, null, "start src; signal approve \"yes\""),
        ["from a step: what ended before it, under the new keys"] = (Onboarding, "6",
            "start src:6; step new:1 charge; block new:2; step new:2.1 laptop; step new:3.1 access; timer new:4 fired; signal approve \"yes\"; wait new:5 took \"yes\""),
        ["from the wait: its signal is there again for it"] = (Onboarding, "src:5",
            "start src:5; step new:1 charge; block new:2; step new:2.1 laptop; step new:3.1 access; timer new:4 fired; signal approve \"yes\""),
        ["from a branch's step: the branches before it carried, the sibling after it runs again"] = (Onboarding, "3.1",
            "start src:3.1; step new:1 charge; block new:2; step new:2.1 laptop; signal approve \"yes\""),
        ["a failed step and one in progress run again; a completed step keeps its failed attempts"] = (Source(
            [new StepStarted("src:1", "charge", 1, At), new StepFailed("src:1", "declined", At), new StepStarted("src:1", "charge", 2, At), new StepCompleted("src:1", "7", At)],
            [new StepStarted("src:2", "ship", 1, At), new StepFailed("src:2", "no stock", At)],
            [new StepStarted("src:3", "audit", 1, At)],
            Step("src:4", "notify")), "4",
            "start src:4; step new:1 charge failed once"),
        ["a completed step carried inside the combined event"] = (Source(
            [new StepStarted("src:1", "a", 1, At)],
            [new StepsCompletedThenStarted([new StepCompleted("src:1", "1", At)], new StepStarted("src:2", "b", 1, At))],
            [new StepCompleted("src:2", "2", At)]), "2",
            "start src:2; step new:1 a"),
        ["the signals its carried waits took stay taken, the others are there in order"] = (Source(
            [new SignalReceived("go", "1", At), new SignalReceived("go", "2", At)],
            [new SignalWaitStarted("src:1", "go", null, At), new SignalWaitStarted("src:2", "go", null, At)],
            [new SignalWaitEnded("src:2", "1", false, At), new SignalWaitEnded("src:1", "2", false, At)],
            Step("src:3", "end")), "2",
            "start src:2; signal go 2; signal go 1; wait new:1 took 2"),
        ["a child awaited before the point: carried under the new default id, so it is not started again"] = (Source(
            Step("src:1", "start-child:src/1", "\"src/1\""),
            [new SignalWaitStarted("src:2", "$child:src/1", null, At), new SignalReceived("$child:src/1", "{}", At, "$child:src/1"), new SignalWaitEnded("src:2", "{}", false, At)],
            Step("src:3", "notify")), "3",
            "start src:3; step new:1 start-child:new/1 \"new/1\"; signal $child:new/1 {}; wait new:2 took {}"),
        ["a child started before the point and awaited after it: started again, as the new workflow's child"] = (Source(
            Step("src:1", "start-child:src/1", "\"src/1\""),
            Step("src:2", "prepare"),
            [new SignalWaitStarted("src:3", "$child:src/1", null, At), new SignalReceived("$child:src/1", "{}", At, "$child:src/1"), new SignalWaitEnded("src:3", "{}", false, At)]), "3",
            "start src:3; step new:2 prepare"),
        ["a child of its own id started before the point and awaited after it: refused"] = (Source(
            Step("src:1", "start-child:invoice-9", "\"invoice-9\""),
            [new SignalWaitStarted("src:2", "$child:invoice-9", null, At), new SignalReceived("$child:invoice-9", "{}", At, "$child:invoice-9"), new SignalWaitEnded("src:2", "{}", false, At)]), "2",
            "refused: the fork point 'src:2' lies between the start of child workflow 'invoice-9' and the wait for its end: fork from before its start or after the wait"),
        ["a timer that had not fired, a cancelled wait"] = (Source(
            [new TimerStarted("src:1", Later, At)],
            [new SignalWaitStarted("src:2", "go", null, At), new WaitCancelled("src:2", At)],
            Step("src:3", "end")), "3",
            "start src:3; wait new:2 cancelled"),
        ["no operation at that key"] = (Onboarding, "9",
            "refused: workflow 'src' has no operation at key 'src:9' (its keys: src:1, src:2, src:2.1 … src:5, src:6)"),
        ["not a key"] = (Onboarding, "4b", "refused: '4b' is not a key of workflow 'src': give a key (src:3) or its sequence (3, 3.1)"),
        ["a key of another workflow"] = (Onboarding, "other:4", "refused: 'other:4' is not a key of workflow 'src': give a key (src:3) or its sequence (3, 3.1)"),
        ["a running source"] = ([new WorkflowStarted("t", "null", At), .. Step("src:1", "a")], "1",
            "refused: source workflow 'src' is RUNNING: only a completed, failed or cancelled workflow can be forked (cancel it first)"),
        ["a paused source"] = ([new WorkflowStarted("t", "null", At), new RunPaused(null, At)], null,
            "refused: source workflow 'src' is PAUSED: only a completed, failed or cancelled workflow can be forked (cancel it first)"),
        ["an unknown source"] = ([], null, "refused: source workflow 'src' does not exist"),
        ["a source that recorded nothing, from a key"] = (Source(), "1", "refused: workflow 'src' has no operation at key 'src:1' (it recorded no operation: fork it from the top)"),
    };

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fork(string because)
    {
        var (source, from, expected) = Table[because];

        var (events, error) = ForkPlan.Plan("src", source, from, "new", inputJson: null, Later, deadline: null, traceParent: null);

        Assert.Equal(expected, error is not null ? $"refused: {error}" : Describe(events!));
    }

    [Fact]
    public void TheStart_TakesTheNewInputAndDeadline_AndNamesTheSourceAndPoint()
    {
        var deadline = Later.AddHours(2);

        var (events, _) = ForkPlan.Plan("src", Onboarding, "src:6", "new", "{\"n\":2}", Later, deadline, "00-trace");

        var start = Assert.IsType<WorkflowStarted>(events![0]);
        Assert.Equal(new WorkflowStarted("t", "{\"n\":2}", Later, TraceParent: "00-trace", Deadline: deadline) { ForkedFrom = "src", ForkedFromKey = "src:6" }, start);
        Assert.Equal(deadline, events.OfType<TimerStarted>().Single().Deadline);
        Assert.Equal("{\"n\":1}", ((WorkflowStarted)ForkPlan.Plan("src", Onboarding, null, "new", null, Later, null, null).Events![0]).InputJson);
    }

    [Fact]
    public void TheEventsCarried_FoldToTheSourcesRecordsBeforeThePoint()
    {
        var (events, _) = ForkPlan.Plan("src", Onboarding, "6", "new", null, Later, null, null);
        var journal = new WorkflowJournal();
        foreach (var e in events!)
            journal.Apply(e);

        var status = journal.ToStatus("new");

        Assert.Equal(WorkflowRunStatus.Running, status.Status);
        Assert.Equal(["new:1 charge", "new:2.1 laptop", "new:3.1 access"], status.Steps.Select(s => $"{s.Key} {s.StepId}"));
        Assert.All(status.Steps, s => Assert.Equal(StepStatus.Completed, s.Status));
        Assert.Equal(("src", "src:6"), (status.ForkedFrom, status.ForkedFromKey));
        Assert.Null(journal.NextSignal("approve"));
    }

    private static string Describe(IReadOnlyList<IJournalEvent> events)
    {
        var lines = new List<string>();
        var started = new Dictionary<string, string>();
        var failures = new Dictionary<string, int>();
        foreach (var e in events)
        {
            switch (e)
            {
                case WorkflowStarted s:
                    lines.Add($"start {s.ForkedFromKey ?? s.ForkedFrom}");
                    break;
                case BranchesReserved r:
                    lines.Add($"block {r.Key}");
                    break;
                case StepStarted s:
                    started[s.Key] = s.StepId;
                    break;
                case StepFailed f:
                    failures[f.Key] = failures.GetValueOrDefault(f.Key) + 1;
                    break;
                case StepCompleted c:
                    var stepId = started[c.Key];
                    lines.Add($"step {c.Key} {stepId}"
                        + (stepId.StartsWith("start-child:", StringComparison.Ordinal) ? $" {c.ResultJson}" : "")
                        + (failures.TryGetValue(c.Key, out var failed) ? $" failed {(failed == 1 ? "once" : $"{failed} times")}" : ""));
                    break;
                case TimerFired t:
                    lines.Add($"timer {t.Key} fired");
                    break;
                case SignalReceived r:
                    lines.Add($"signal {r.Name} {r.PayloadJson}");
                    break;
                case SignalWaitEnded w:
                    lines.Add($"wait {w.Key} took {w.PayloadJson}");
                    break;
                case WaitCancelled w:
                    lines.Add($"wait {w.Key} cancelled");
                    break;
                case TimerStarted or SignalWaitStarted:
                    break;
                default:
                    lines.Add(e.GetType().Name);
                    break;
            }
        }
        return string.Join("; ", lines);
    }
}
