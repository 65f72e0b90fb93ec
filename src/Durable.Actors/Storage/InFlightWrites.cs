using System.Collections.Concurrent;

namespace Durable.Actors.Storage;

/// <summary>
/// Each persistence id's latest write still in flight in one of the engine's write journals (SQLite's, PostgreSQL's), so
/// that a recovering actor reads its highest sequence number only after its previous incarnation's writes have ended.
/// </summary>
internal sealed class InFlightWrites
{
    private readonly ConcurrentDictionary<string, Task> _latest = new(StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="written"/> as the latest write of <paramref name="persistenceId"/> until it ends.</summary>
    public void Track(string persistenceId, Task written)
    {
        _latest[persistenceId] = written;
        written.ContinueWith(
            t => _latest.TryRemove(new KeyValuePair<string, Task>(persistenceId, t)),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Ends once the latest write of <paramref name="persistenceId"/> has ended, committed or failed.</summary>
    public Task EndedAsync(string persistenceId) =>
        _latest.TryGetValue(persistenceId, out var write) ? write.ContinueWith(_ => { }, TaskScheduler.Default) : Task.CompletedTask;
}
