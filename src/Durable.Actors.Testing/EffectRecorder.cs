namespace Durable.Actors.Testing;

/// <summary>
/// Counts your workflow's side effects: call <see cref="Record"/> where the effect happens (in a step body, or in a
/// fake of your service). Under the kit's hosts each record also knows the step whose body made it, so the crash test
/// can tell an effect that a crash may repeat from one that ran again when it must not.
/// </summary>
public sealed class EffectRecorder
{
    private readonly Lock _gate = new();
    private readonly List<EffectRecord> _records = [];

    /// <summary>Records one occurrence of <paramref name="effect"/> (a name of your choosing: <c>"charge:order-7"</c>).</summary>
    public void Record(string effect)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(effect);
        var step = StepScope.Current;
        lock (_gate)
            _records.Add(new EffectRecord(effect, step?.Host ?? Phase, step?.WorkflowId, step?.Key, step?.StepId));
    }

    /// <summary>How many times <paramref name="effect"/> was recorded.</summary>
    public int Count(string effect)
    {
        lock (_gate)
            return _records.Count(r => r.Effect == effect);
    }

    /// <summary>Every effect recorded, with how many times.</summary>
    public IReadOnlyDictionary<string, int> Counts
    {
        get
        {
            lock (_gate)
                return _records.GroupBy(r => r.Effect, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        }
    }

    /// <summary>Forgets every record.</summary>
    public void Clear()
    {
        lock (_gate)
            _records.Clear();
    }

    /// <summary>The host that effects recorded outside any step body are counted for (the crash test sets it).</summary>
    internal int Phase { get; set; }

    internal IReadOnlyList<EffectRecord> Records
    {
        get
        {
            lock (_gate)
                return [.. _records];
        }
    }
}

/// <summary>One recorded effect: in which host, and in which step body (null outside one).</summary>
internal sealed record EffectRecord(string Effect, int Host, string? WorkflowId, string? Key, string? StepId);

/// <summary>The step whose body runs in the current execution context, set by the kit's hosts.</summary>
internal static class StepScope
{
    private static readonly AsyncLocal<RunningStep?> Step = new();

    public static RunningStep? Current
    {
        get => Step.Value;
        set => Step.Value = value;
    }
}

internal sealed record RunningStep(int Host, string WorkflowId, string Key, string StepId);
