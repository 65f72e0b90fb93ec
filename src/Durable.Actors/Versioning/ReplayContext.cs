using System.Text.Json;
using System.Text.Json.Nodes;
using Durable.Actors.Decisions;
using Durable.Actors.Journal;
using Durable.Actors.Runtime;

namespace Durable.Actors.Versioning;

/// <summary>
/// What the replay of one workflow against the current code found, shared by its top-level context and its branches.
/// Keys and decisions come from the decider the workflow actor uses (<see cref="WorkflowDecider"/>).
/// </summary>
internal sealed class ReplayRun(string workflowId, string workflowType, WorkflowJournal journal, IReadOnlyDictionary<string, WorkflowJournal> all, JsonSerializerOptions json)
{
    private readonly object _gate = new();
    private readonly WorkflowDecider _decider = new(workflowId, journal);
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);
    private readonly List<string> _notes = [];
    private readonly Dictionary<string, bool> _patches = new(StringComparer.Ordinal);

    public string WorkflowId => workflowId;
    public WorkflowJournal Journal => journal;
    public JsonSerializerOptions Json => json;
    public IReadOnlyDictionary<string, WorkflowJournal> All => all;

    /// <summary>The first divergence by key order: key, one line for this workflow, one line for its group.</summary>
    public (string Key, string Detail, string Group)? Divergence { get; private set; }

    /// <summary>Where the record first ended (the run would go on from there), for the report.</summary>
    public string? End { get; private set; }

    public int Replayed { get; private set; }

    public IReadOnlyList<string> Notes { get { lock (_gate) return _notes.ToList(); } }

    /// <summary>Per patch the code asked for: whether this workflow took the old path there (at any call).</summary>
    public IReadOnlyDictionary<string, bool> OldPathByPatch { get { lock (_gate) return new Dictionary<string, bool>(_patches, StringComparer.Ordinal); } }

    public string Key(string scope, int sequence) => _decider.Key(scope, sequence);

    /// <summary>Takes <paramref name="count"/> keys of <paramref name="scope"/> as the workflow actor does; returns the first one's sequence.</summary>
    public int Reserve(string scope, int count)
    {
        lock (_gate)
            return _decider.Reserve(scope, count);
    }

    /// <summary>The decider's rules for a step, a wait and a block (they read the journal only).</summary>
    public WorkflowDecider Decider => _decider;

    /// <summary>The decision of <see cref="IWorkflowContext.PatchedAsync"/>, as the workflow actor makes it: true, false, or null where the record ends.</summary>
    public (bool? Patched, string Key) DecidePatch(string scope, string patchId)
    {
        lock (_gate)
        {
            // Nothing is written here: the time only goes into the events the decision would record.
            var decision = _decider.DecidePatch(scope, patchId, DateTimeOffset.UnixEpoch);
            switch (decision.Outcome)
            {
                case PatchOutcome.Recorded:
                    _patches[patchId] = _patches.GetValueOrDefault(patchId);
                    Replayed++;
                    return (true, decision.Key);
                case PatchOutcome.OldPath:
                    _patches[patchId] = true;
                    return (false, decision.Key);
                default:
                    _patches[patchId] = _patches.GetValueOrDefault(patchId);
                    return (null, decision.Key);
            }
        }
    }

    public void Matched(string key)
    {
        lock (_gate)
        {
            _consumed.Add(key);
            Replayed++;
        }
    }

    /// <summary>Counts every record under the branch reserved as <paramref name="branchKey"/> as asked (a race's loser).</summary>
    public void MatchedUnder(string branchKey)
    {
        var prefix = branchKey + ".";
        lock (_gate)
        {
            foreach (var step in journal.ToStatus(workflowId).Steps.Where(s => s.Key.StartsWith(prefix, StringComparison.Ordinal)))
                _consumed.Add(step.Key);
            foreach (var key in journal.WaitKeys().Concat(journal.BlockKeys()).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
                _consumed.Add(key);
        }
    }

    public void Note(string note)
    {
        lock (_gate)
            _notes.Add(note);
    }

    public void Ended(string key, string what)
    {
        lock (_gate)
            End ??= $"the record ends at {key}, where {what}";
    }

    public void Diverged(string key, string recorded, string requested)
    {
        lock (_gate)
        {
            if (Divergence is { } first && StepKeys.Comparer.Compare(first.Key, key) <= 0)
                return;
            var place = key[(workflowId.Length + 1)..];
            Divergence = (key, $"at {key} the record holds {recorded}, the code asks for {requested}",
                $"{workflowType} at key {place}: the record holds {recorded}, the code asks for {requested}");
        }
    }

    /// <summary>The first record (by key) the replay did not ask for: steps, waits and parallel blocks; patch markers left out.</summary>
    public (string Key, string What)? FirstUnasked()
    {
        lock (_gate)
        {
            var status = journal.ToStatus(workflowId);
            var unasked = status.Steps
                .Where(s => !PatchMarkers.IsMarker(s.StepId) && !_consumed.Contains(s.Key))
                .Select(s => (s.Key, What: $"step '{s.StepId}'"))
                .Concat(journal.WaitKeys().Where(k => !_consumed.Contains(k)).Select(k => (Key: k, What: journal.TryGetWait(k, out var w) ? w.Kind : "a wait")))
                .Concat(journal.BlockKeys().Where(k => !_consumed.Contains(k)).Select(k => (Key: k, What: "a parallel block")))
                .OrderBy(u => u.Key, StepKeys.Comparer)
                .ToList();
            return unasked.Count == 0 ? null : unasked[0];
        }
    }
}

/// <summary>
/// A context that serves a workflow's recorded results to the current code and runs no step body. Where the record
/// ends, or where the code asks for something else than the record holds, it stops the flow that asked: the task it
/// returns never completes, so no workflow code (a catch block) runs past that point.
/// </summary>
internal sealed class ReplayContext(ReplayRun run, string scope) : IWorkflowContext
{
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _children;

    /// <summary>Completes when this flow stopped (the record ended or diverged here or in one of its parallel blocks).</summary>
    public Task Blocked => _blocked.Task;

    public bool IsBlocked => _blocked.Task.IsCompleted;

    public string WorkflowId => run.WorkflowId;

    public CancellationToken CancellationToken => run.Journal.CancelRequested ? new CancellationToken(true) : CancellationToken.None;

    private Task<T> Stop<T>()
    {
        _blocked.TrySetResult();
        return new TaskCompletionSource<T>().Task;
    }

    private Task<T> End<T>(string key, string what)
    {
        run.Ended(key, what);
        return Stop<T>();
    }

    private Task<T> Diverge<T>(string key, string recorded, string requested)
    {
        run.Diverged(key, recorded, requested);
        return Stop<T>();
    }

    public Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepId);
        var journal = run.Journal;
        var key = run.Key(scope, run.Reserve(scope, 1));
        var requested = $"step '{stepId}'";
        switch (run.Decider.DecideStep(key, stepId, DateTimeOffset.UnixEpoch, node: null))
        {
            case StepCall.Conflict conflict:
                return Diverge<T>(key, conflict.Recorded.Describe(), requested);
            case StepCall.Run { Failed: null }:
                return End<T>(key, $"{requested} would run");
            case StepCall.Replay { Step: var step }:
                T result;
                try
                {
                    result = ValueJson.Deserialize<T>(step.ResultJson!, run.Json)!;
                }
                catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
                {
                    return Diverge<T>(key, $"{requested} with a result recorded as {step.ResultType ?? "JSON"}",
                        $"a result of type {TypeNames.For<T>()}, which it does not read as ({e.Message.Split('\n')[0]})");
                }
                run.Matched(key);
                return Task.FromResult(result);
            case StepCall.Run when journal.CancelRequested && scope.Length > 0:
                // A branch of a cancelled workflow starts no step: the engine fails it again, as here.
                run.Matched(key);
                return Task.FromException<T>(new OperationCanceledException($"Workflow '{run.WorkflowId}' was cancelled before step '{stepId}' ({key}) started."));
            case StepCall.Run:
                run.Matched(key);
                return End<T>(key, $"{requested} failed last time and runs again");
            default:
                run.Matched(key);
                return End<T>(key, $"{requested} is IN_PROGRESS (it runs again, or its result is written)");
        }
    }

    public Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, StepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return StepAsync(stepId, body, options.Retry);
    }

    public Task<bool> PatchedAsync(string patchId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(patchId);
        var (patched, key) = run.DecidePatch(scope, patchId);
        return patched is { } decided ? Task.FromResult(decided) : End<bool>(key, $"patch '{patchId}' would be recorded (the new path)");
    }

    public Task SleepAsync(TimeSpan duration, CancellationToken cancellationToken = default) =>
        WaitAsync<object?>(null, null, (_, _) => Task.FromResult<object?>(null));

    public Task SleepUntilAsync(DateTimeOffset until, CancellationToken cancellationToken = default) => SleepAsync(TimeSpan.Zero, cancellationToken);

    public Task<SignalResult<T>> WaitForSignalAsync<T>(string signalName, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signalName);
        return WaitAsync(signalName, timeout, (key, wait) =>
        {
            if (wait.TimedOut)
                return Task.FromResult(new SignalResult<T>(false, default));
            try
            {
                return Task.FromResult(new SignalResult<T>(true, JsonSerializer.Deserialize<T>(wait.PayloadJson ?? "null", run.Json)));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                return Diverge<SignalResult<T>>(key, $"signal '{signalName}' with a recorded payload",
                    $"a payload of type {TypeNames.For<T>()}, which it does not read as ({e.Message.Split('\n')[0]})");
            }
        });
    }

    /// <summary>A timer (<paramref name="signalName"/> null) or a signal wait, decided as the workflow actor decides it.</summary>
    private Task<T> WaitAsync<T>(string? signalName, TimeSpan? timeout, Func<string, WorkflowJournal.WaitEntry, Task<T>> ended)
    {
        var journal = run.Journal;
        var key = run.Key(scope, run.Reserve(scope, 1));
        var requested = signalName is null ? "a timer" : ChildSignals.ChildOf(signalName) is { } child
            ? $"a wait for child workflow '{child}'"
            : $"a wait for signal '{signalName}'";
        // Nothing is written here: the times only go into the events the decision would record.
        var decision = signalName is null
            ? run.Decider.DecideTimer(key, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)
            : run.Decider.DecideSignalWait(key, signalName, timeout, DateTimeOffset.UnixEpoch);
        switch (decision)
        {
            case WaitCall.Ended { Wait: var wait }:
                run.Matched(key);
                return ended(key, wait);
            case WaitCall.Resume { Wait: var wait }:
                run.Matched(key);
                return End<T>(key, $"the workflow waits ({wait.Describe()})");
            case WaitCall.Cancelled:
                if (journal.TryGetWait(key, out _))
                    run.Matched(key);
                return Task.FromCanceled<T>(new CancellationToken(true));
            case WaitCall.Conflict conflict:
                return Diverge<T>(key, conflict.Recorded.Describe(), requested);
            default:
                return End<T>(key, $"{requested} would begin");
        }
    }

    public async Task<TResult> RunChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true)
    {
        var child = await StartChildAsync<TInput, TResult>(workflowType, input, childId, cancelWithParent).ConfigureAwait(false);
        return await child.GetResultAsync().ConfigureAwait(false);
    }

    public async Task<ChildWorkflow<TResult>> StartChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        var id = childId ?? $"{run.WorkflowId}/{scope}{++_children}";
        var inputJson = JsonSerializer.Serialize(input, run.Json);
        await StepAsync<string>(ChildSignals.StartStepId(id), _ => throw new InvalidOperationException("The replay check runs no step body."), RetryPolicy.None).ConfigureAwait(false);
        // The step replayed, so the child exists: its recorded input is what the code passed then.
        if (run.All.TryGetValue(id, out var recorded) && recorded.Exists
            && !JsonNode.DeepEquals(JsonNode.Parse(recorded.InputJson), JsonNode.Parse(inputJson)))
            run.Note($"child workflow '{id}' was started with input {recorded.InputJson}; the code now passes {inputJson}");
        return new ChildWorkflow<TResult>(id, async token =>
        {
            var ended = await WaitForSignalAsync<ChildOutcome>(ChildSignals.For(id), null, token).ConfigureAwait(false);
            var outcome = ended.Payload!;
            return outcome.Status switch
            {
                "COMPLETED" => JsonSerializer.Deserialize<TResult>(outcome.ResultJson ?? "null", run.Json)!,
                "CANCELLED" => throw new ChildWorkflowFailedException(id, workflowType, "was cancelled", outcome.Error ?? "cancelled"),
                _ => throw new ChildWorkflowFailedException(id, workflowType, "failed", outcome.Error ?? "failed"),
            };
        });
    }

    public Task<DateTimeOffset> NowAsync() => StepAsync("durable.now", _ => Task.FromResult(DateTimeOffset.MinValue), RetryPolicy.None);

    public Task<Guid> NewGuidAsync() => StepAsync("durable.new-guid", _ => Task.FromResult(Guid.Empty), RetryPolicy.None);

    public Task SetAttributesAsync(IReadOnlyDictionary<string, object?> attributes)
    {
        AttributeChanges.From(attributes, run.WorkflowId);
        return StepAsync(AttributeChanges.StepId, _ => Task.FromResult<object?>(null), RetryPolicy.None);
    }

    public Task SetCustomStatusAsync<T>(T status) =>
        StepAsync(WorkflowJournal.CustomStatusStepId, _ => Task.FromResult<object?>(null), RetryPolicy.None);

    public Task<int> RandomAsync(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return StepAsync("durable.random", _ => Task.FromResult(minValue), RetryPolicy.None);
    }

    public async Task<IReadOnlyList<T>> ParallelAsync<T>(IReadOnlyList<Func<IWorkflowContext, Task<T>>> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        var count = branches.Count;
        if (count == 0)
            return [];
        var first = run.Reserve(scope, count);
        var keys = Enumerable.Range(first, count).Select(n => run.Key(scope, n)).ToList();
        var block = $"a parallel block of {count} branches";
        switch (run.Decider.DecideBlock(keys, DateTimeOffset.UnixEpoch))
        {
            case BlockCall.Replay:
                run.Matched(keys[0]);
                break;
            case BlockCall.Conflict conflict:
                return await Diverge<IReadOnlyList<T>>(conflict.Recorded.Key, conflict.Recorded.Describe(), block).ConfigureAwait(false);
            default:
                return await End<IReadOnlyList<T>>(keys[0], $"{block} would begin").ConfigureAwait(false);
        }

        var contexts = keys.Select(k => new ReplayContext(run, k[(run.WorkflowId.Length + 1)..] + ".")).ToList();
        var running = contexts.Select((c, i) => RunBranchAsync(branches[i], c)).ToList();
        // A branch settles when it ends or stops; the block goes on only when none stopped.
        await Task.WhenAll(running.Select((t, i) => Task.WhenAny(t, contexts[i].Blocked))).ConfigureAwait(false);
        if (contexts.Any(c => c.IsBlocked))
            return await Stop<IReadOnlyList<T>>().ConfigureAwait(false);
        for (var i = 0; i < count; i++)
        {
            if (running[i].Exception?.InnerException is { } error)
                throw error as ParallelBranchFailedException ?? new ParallelBranchFailedException(keys[i], i + 1, count, null, null, error);
        }
        return running.Select(t => t.Result).ToList();
    }

    public async Task<int> WhenAnyAsync(params Func<IWorkflowContext, Task>[] branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        var count = branches.Length;
        if (count == 0)
            throw new ArgumentException("A race needs at least one branch.", nameof(branches));
        var first = run.Reserve(scope, count);
        var keys = Enumerable.Range(first, count).Select(n => run.Key(scope, n)).ToList();
        var winnerKey = run.Key(scope, run.Reserve(scope, 1));
        var race = $"a race of {count} branches";
        switch (run.Decider.DecideBlock(keys, DateTimeOffset.UnixEpoch))
        {
            case BlockCall.Replay:
                run.Matched(keys[0]);
                break;
            case BlockCall.Conflict conflict:
                return await Diverge<int>(conflict.Recorded.Key, conflict.Recorded.Describe(), race).ConfigureAwait(false);
            default:
                return await End<int>(keys[0], $"{race} would begin").ConfigureAwait(false);
        }
        // The winner: as the engine decides, replayed when recorded; else the race is still going where the record
        // ends: every branch replays as far as its record goes (the first to end would win).
        var recorded = run.Decider.Completed(winnerKey, WorkflowContext.WhenAnyStepId);
        if (recorded is null)
        {
            if (!run.Decider.IsFree(winnerKey) && run.Journal.TryGetStep(winnerKey, out var other))
                return await Diverge<int>(winnerKey, $"step '{other.StepId}'", $"the winner of {race}").ConfigureAwait(false);
            var contexts = keys.Select(k => new ReplayContext(run, k[(run.WorkflowId.Length + 1)..] + ".")).ToList();
            var all = contexts.Select((c, i) => RunBranchAsync<object?>(async x =>
            {
                await branches[i](x).ConfigureAwait(false);
                return null;
            }, c)).ToList();
            await Task.WhenAll(all.Select((t, i) => Task.WhenAny(t, contexts[i].Blocked))).ConfigureAwait(false);
            return await End<int>(winnerKey, $"{race} is not decided").ConfigureAwait(false);
        }
        int winner;
        try
        {
            winner = ValueJson.Deserialize<int>(recorded.ResultJson!, run.Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return await Diverge<int>(winnerKey, $"a race's winner recorded as {recorded.ResultJson}", $"the winner of {race}").ConfigureAwait(false);
        }
        if (winner < 0 || winner >= count)
            return await Diverge<int>(winnerKey, $"the winner of a race as branch {winner + 1}", race).ConfigureAwait(false);
        run.Matched(winnerKey);
        // The losers started cancelled in the run that replays: what they recorded is not asked again.
        for (var i = 0; i < count; i++)
        {
            if (i != winner)
                run.MatchedUnder(keys[i]);
        }
        var context = new ReplayContext(run, keys[winner][(run.WorkflowId.Length + 1)..] + ".");
        var branch = RunBranchAsync<object?>(async c =>
        {
            await branches[winner](c).ConfigureAwait(false);
            return null;
        }, context);
        await Task.WhenAny(branch, context.Blocked).ConfigureAwait(false);
        if (context.IsBlocked)
            return await Stop<int>().ConfigureAwait(false);
        await branch.ConfigureAwait(false);
        return winner;
    }

    private static async Task<T> RunBranchAsync<T>(Func<IWorkflowContext, Task<T>> branch, ReplayContext context) =>
        await branch(context).ConfigureAwait(false);
}
