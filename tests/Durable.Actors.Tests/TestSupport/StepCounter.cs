using System.Collections.Concurrent;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>Counts real executions of step bodies, DBOS style: the proof that a completed step did not run again.</summary>
public sealed class StepCounter
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public void Ran(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    public int this[string what] => _counts.GetValueOrDefault(what);

    public int Total => _counts.Values.Sum();

    public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(_counts);
}
