using System.Text.Json;
using Durable.Actors.Journal;

namespace Durable.Actors.Decisions;

/// <summary>
/// What a fork of an ended workflow writes as the new workflow's first events (<see cref="ForkWorkflow"/>): its start,
/// then the source's records of every operation that ended before the fork point, in the source's order, under the new
/// workflow's keys. A run of the new workflow replays them and runs the rest. Free of Akka: a function of the source's
/// events.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>An operation is before the fork point when its key sorts before it in program order (<see cref="StepKeys"/>):
/// <c>3.2</c> is after <c>3</c> and before <c>4</c>. Only operations that ended are carried: a completed step (with
/// its failed attempts), a timer that fired, a signal wait that ended, a cancelled wait, a parallel block's
/// reservation. A failed step, or one left in progress, runs again, as it would on a resume.</item>
/// <item>Every signal the source received is carried (as Temporal's reset reapplies them): those its carried waits
/// consumed stay consumed, the others are there for the new workflow's waits.</item>
/// <item>A child workflow whose end the source's carried code awaited is not started again (its outcome is carried).
/// A child whose start is carried but whose wait is not is started again, as a new child of the new workflow, when its
/// id is the engine's default (<c>&lt;parent&gt;/&lt;n&gt;</c>, renamed after the new workflow); a child with an id of
/// its own would still report to the source, so that fork point is refused.</item>
/// <item>The lifecycle of the source (its end, resumes, cancellation, pause) is not carried: the new workflow runs.</item>
/// </list>
/// </remarks>
internal static class ForkPlan
{
    private const string ChildStepPrefix = ChildSignals.StartStepPrefix;

    /// <summary>
    /// The events that start <paramref name="newId"/> as a fork of <paramref name="sourceId"/> from
    /// <paramref name="from"/> (null: from the top, carrying nothing); or the error that says why it cannot be.
    /// </summary>
    /// <param name="sourceId">The workflow forked.</param>
    /// <param name="source">The source's events, in journal order.</param>
    /// <param name="from">A key of the source (<c>src:3.1</c>) or its sequence (<c>3.1</c>); null for the top.</param>
    /// <param name="newId">The new workflow.</param>
    /// <param name="inputJson">The new workflow's input; null for the source's.</param>
    /// <param name="at">When the new workflow starts.</param>
    /// <param name="deadline">The new workflow's deadline, if it has one.</param>
    /// <param name="traceParent">The trace context of the new workflow's first run.</param>
    /// <returns>The events, a <see cref="WorkflowStarted"/> first; or the error.</returns>
    public static (IReadOnlyList<IJournalEvent>? Events, string? Error) Plan(
        string sourceId, IReadOnlyList<IJournalEvent> source, string? from, string newId, string? inputJson, DateTimeOffset at,
        DateTimeOffset? deadline, string? traceParent)
    {
        var journal = new WorkflowJournal();
        foreach (var e in source)
            journal.Apply(e);
        if (!journal.Exists)
            return (null, $"source workflow '{sourceId}' does not exist");
        if (journal.Status is not (WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled))
        {
            var status = journal.ToStatus(sourceId).Status.ToString().ToUpperInvariant();
            return (null, $"source workflow '{sourceId}' is {status}: only a completed, failed or cancelled workflow can be forked (cancel it first)");
        }

        var records = Records.Of(source);
        int[]? point = null;
        string? fromKey = null;
        if (from is not null)
        {
            if (ParseFrom(sourceId, from) is not { } parsed)
                return (null, $"'{from}' is not a key of workflow '{sourceId}': give a key ({sourceId}:3) or its sequence (3, 3.1)");
            fromKey = $"{sourceId}:{string.Join('.', parsed)}";
            if (!records.Keys.Contains(fromKey))
            {
                var known = records.Keys.Count == 0
                    ? "it recorded no operation: fork it from the top"
                    : $"its keys: {Describe(records.Keys)}";
                return (null, $"workflow '{sourceId}' has no operation at key '{fromKey}' ({known})");
            }
            point = parsed;
        }

        bool Before(string key) => point is not null && StepKeys.SequenceComparer.Compare(StepKeys.Sequence(key), point) < 0;
        var carried = records.Ended.Where(Before).ToHashSet(StringComparer.Ordinal);

        // Children: carried whole (start and awaited end), started again (the default id, renamed), or refused.
        var defaultChildPrefix = sourceId + "/";
        foreach (var (key, stepId) in records.StepIds)
        {
            if (!carried.Contains(key) || !stepId.StartsWith(ChildStepPrefix, StringComparison.Ordinal))
                continue;
            var child = stepId[ChildStepPrefix.Length..];
            var waits = records.WaitNames.Where(w => w.Value == ChildSignals.For(child)).Select(w => w.Key).ToList();
            if (waits.Count == 0 || waits.Any(carried.Contains))
                continue;
            if (!child.StartsWith(defaultChildPrefix, StringComparison.Ordinal))
                return (null, $"the fork point '{fromKey}' lies between the start of child workflow '{child}' and the wait for its end: fork from before its start or after the wait");
            carried.Remove(key);
        }

        var renames = new Renames(sourceId, newId, records.StepIds);
        List<IJournalEvent> events =
        [
            new WorkflowStarted(journal.WorkflowType!, inputJson ?? journal.InputJson, at, TraceParent: traceParent, Deadline: deadline)
            {
                ForkedFrom = sourceId,
                ForkedFromKey = fromKey,
            },
        ];
        var signalOrder = SignalOrder(source, records, carried);
        var signalsSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in source)
        {
            switch (e)
            {
                case SignalReceived received:
                    var name = received.Name;
                    var index = signalsSeen[name] = signalsSeen.GetValueOrDefault(name) + 1;
                    if (ChildSignals.ChildOf(name) is not null)
                    {
                        // A child's end: carried with the wait that took it.
                        if (records.WaitNames.Any(w => w.Value == name && carried.Contains(w.Key)))
                            events.Add(received with { Name = renames.Signal(name), DeliveryId = renames.Signal(name) });
                        break;
                    }
                    // The n-th signal of a name: those the carried waits consumed first, in the order they consumed them.
                    events.Add(signalOrder[name][index - 1]);
                    break;
                case StepsCompletedThenStarted advanced:
                    foreach (var c in advanced.Completed.Where(c => carried.Contains(c.Key)))
                        events.Add(renames.Of(c, deadline));
                    if (carried.Contains(advanced.Started.Key))
                        events.Add(renames.Of(advanced.Started, deadline));
                    break;
                default:
                    if (Records.KeyOf(e) is { } key && carried.Contains(key))
                        events.Add(renames.Of(e, deadline));
                    break;
            }
        }
        return (events, null);
    }

    /// <summary>The key of the source a fork point names; null for the top, or for a fork point that is no key.</summary>
    public static string? KeyOf(string sourceId, string? from) =>
        from is not null && ParseFrom(sourceId, from) is { } sequence ? $"{sourceId}:{string.Join('.', sequence)}" : null;

    /// <summary>The source's sequence of a fork point: <c>3</c>, <c>3.1</c>, or a key of the source (<c>src:3.1</c>).</summary>
    private static int[]? ParseFrom(string sourceId, string from)
    {
        var sequence = from.StartsWith(sourceId + ":", StringComparison.Ordinal) ? from[(sourceId.Length + 1)..] : from;
        var parts = sequence.Split('.');
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out numbers[i])
                || numbers[i] < 1 || parts[i] != numbers[i].ToString(System.Globalization.CultureInfo.InvariantCulture))
                return null;
        }
        return numbers;
    }

    private static string Describe(IEnumerable<string> keys)
    {
        var sorted = keys.Select(k => (Key: k, Sequence: StepKeys.Sequence(k))).OrderBy(k => k.Sequence, StepKeys.SequenceComparer).Select(k => k.Key).ToList();
        return sorted.Count <= 6 ? string.Join(", ", sorted) : $"{string.Join(", ", sorted.Take(3))} … {string.Join(", ", sorted.TakeLast(2))}";
    }

    /// <summary>
    /// Per signal name, the source's signals in the order the new workflow consumes them: those its carried waits
    /// consumed first (in that order), then the rest in the order received. The journal consumes a name's signals by
    /// count, so the n-th <see cref="SignalReceived"/> of the name becomes the n-th of this list.
    /// </summary>
    private static Dictionary<string, List<SignalReceived>> SignalOrder(IReadOnlyList<IJournalEvent> source, Records records, HashSet<string> carried)
    {
        var received = new Dictionary<string, List<SignalReceived>>(StringComparer.Ordinal);
        var consumptions = new Dictionary<string, int>(StringComparer.Ordinal);
        // The indexes (in received order) of the signals the carried waits consumed: the n-th consumption took the n-th.
        var kept = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var e in source)
        {
            if (e is SignalReceived signal)
                (received.TryGetValue(signal.Name, out var signals) ? signals : received[signal.Name] = []).Add(signal);
            else if (e is SignalWaitEnded { TimedOut: false } ended && records.WaitNames.GetValueOrDefault(ended.Key) is { } name)
            {
                var index = consumptions[name] = consumptions.GetValueOrDefault(name) + 1;
                if (carried.Contains(ended.Key))
                    (kept.TryGetValue(name, out var indexes) ? indexes : kept[name] = []).Add(index - 1);
            }
        }
        var order = new Dictionary<string, List<SignalReceived>>(StringComparer.Ordinal);
        foreach (var (name, signals) in received)
        {
            var first = kept.GetValueOrDefault(name) ?? [];
            order[name] = [.. first.Select(i => signals[i]), .. signals.Where((_, i) => !first.Contains(i))];
        }
        return order;
    }

    /// <summary>The source's keyed records: every key, the keys of operations that ended, step ids and signal waits' names.</summary>
    private sealed class Records
    {
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Ended { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> StepIds { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string?> WaitNames { get; } = new(StringComparer.Ordinal);

        public static Records Of(IReadOnlyList<IJournalEvent> source)
        {
            var records = new Records();
            foreach (var e in source)
                records.Add(e);
            return records;
        }

        private void Add(IJournalEvent e)
        {
            if (KeyOf(e) is { } key)
                Keys.Add(key);
            switch (e)
            {
                case BranchesReserved r:
                    Ended.Add(r.Key);
                    break;
                case StepStarted s:
                    StepIds.TryAdd(s.Key, s.StepId);
                    break;
                case StepCompleted c:
                    Ended.Add(c.Key);
                    break;
                case StepsCompletedThenStarted advanced:
                    foreach (var c in advanced.Completed)
                        Add(c);
                    Add(advanced.Started);
                    break;
                case TimerStarted t:
                    WaitNames[t.Key] = null;
                    break;
                case SignalWaitStarted w:
                    WaitNames[w.Key] = w.Name;
                    break;
                case TimerFired or SignalWaitEnded or WaitCancelled:
                    Ended.Add(KeyOf(e)!);
                    break;
            }
        }

        public static string? KeyOf(IJournalEvent e) => e switch
        {
            BranchesReserved r => r.Key,
            StepStarted s => s.Key,
            StepCompleted c => c.Key,
            StepFailed f => f.Key,
            StepsCompletedThenStarted advanced => advanced.Started.Key,
            TimerStarted t => t.Key,
            TimerFired t => t.Key,
            SignalWaitStarted w => w.Key,
            SignalWaitEnded w => w.Key,
            WaitCancelled w => w.Key,
            _ => null,
        };
    }

    /// <summary>The source's names under the new workflow: its keys, and the default ids of its children.</summary>
    private sealed class Renames(string sourceId, string newId, Dictionary<string, string> stepIds)
    {
        private readonly string _keyPrefix = sourceId + ":";
        private readonly string _childPrefix = sourceId + "/";

        public string Key(string key) => key.StartsWith(_keyPrefix, StringComparison.Ordinal) ? newId + key[sourceId.Length..] : key;

        private string Child(string child) => child.StartsWith(_childPrefix, StringComparison.Ordinal) ? newId + child[sourceId.Length..] : child;

        public string Signal(string name) => ChildSignals.ChildOf(name) is { } child ? ChildSignals.For(Child(child)) : name;

        private string StepId(string stepId) =>
            stepId.StartsWith(ChildStepPrefix, StringComparison.Ordinal) ? ChildStepPrefix + Child(stepId[ChildStepPrefix.Length..]) : stepId;

        /// <summary>A keyed event under the new names; waits carry the new workflow's deadline.</summary>
        public IJournalEvent Of(IJournalEvent e, DateTimeOffset? deadline) => e switch
        {
            BranchesReserved r => r with { Key = Key(r.Key) },
            StepStarted s => s with { Key = Key(s.Key), StepId = StepId(s.StepId) },
            StepCompleted c => c with { Key = Key(c.Key), ResultJson = Result(c) },
            StepFailed f => f with { Key = Key(f.Key) },
            TimerStarted t => t with { Key = Key(t.Key), Deadline = deadline },
            TimerFired t => t with { Key = Key(t.Key) },
            SignalWaitStarted w => w with { Key = Key(w.Key), Name = Signal(w.Name), Deadline = deadline },
            SignalWaitEnded w => w with { Key = Key(w.Key) },
            WaitCancelled w => w with { Key = Key(w.Key) },
            _ => e,
        };

        // A child's start records the child's id as its result: the renamed one.
        private string Result(StepCompleted c) =>
            stepIds.GetValueOrDefault(c.Key)?.StartsWith(ChildStepPrefix, StringComparison.Ordinal) == true
            && JsonSerializer.Deserialize<string>(c.ResultJson) is { } child
                ? JsonSerializer.Serialize(Child(child))
                : c.ResultJson;
    }
}
