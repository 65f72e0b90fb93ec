using System.Collections.Concurrent;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>
/// Counts how many pieces of code run at once under each name (in all, per key), and the most ever seen: what a
/// queue's concurrency limits promise, checked where the code runs (a step's body).
/// </summary>
public sealed class AtOnce
{
    private readonly ConcurrentDictionary<string, int> _inside = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _most = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="body"/> counted under each of <paramref name="names"/>.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> body, params string[] names)
    {
        foreach (var name in names)
        {
            var now = _inside.AddOrUpdate(name, 1, (_, n) => n + 1);
            _most.AddOrUpdate(name, now, (_, most) => Math.Max(most, now));
        }
        try
        {
            return await body();
        }
        finally
        {
            foreach (var name in names)
                _inside.AddOrUpdate(name, 0, (_, n) => n - 1);
        }
    }

    /// <summary>The most that ran at once under <paramref name="name"/>; 0 when none ran.</summary>
    public int Most(string name) => _most.GetValueOrDefault(name);
}
