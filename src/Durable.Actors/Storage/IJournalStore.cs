namespace Durable.Actors.Storage;

/// <summary>
/// What one database adds to the <see cref="JournalWriter"/>: how a batch of writes is committed as one transaction
/// (the journal rows, their tags and their changes to the workflow index), and which errors belong to one write rather
/// than to the database. SQLite's is <see cref="SqliteJournalStore"/>; PostgreSQL's is in Durable.Actors.Cluster. Used
/// by the writer's thread only.
/// </summary>
internal interface IJournalStore : IDisposable
{
    /// <summary>The most rows one transaction takes: a burst of writes is committed in a few steps, not one long one.</summary>
    int MaxRowsPerTransaction { get; }

    /// <summary>
    /// Commits every write of <paramref name="writes"/> in one transaction, or none of them. Throws
    /// <see cref="JournalWriteRefusedException"/> when writes would fail in any transaction (a sequence number already
    /// written, a value the database refuses), having rolled back; any other exception fails the whole batch, and the
    /// writer calls <see cref="Reset"/> before its next transaction.
    /// </summary>
    void Commit(IReadOnlyList<IReadOnlyList<JournalRow>> writes);

    /// <summary>
    /// Deletes every row of the workflows of <paramref name="targets"/>, their journal events, their tags and their index
    /// rows, in one transaction: after a crash each is whole or gone. A target <see cref="PurgeTarget.OnlyIfEnded"/> is
    /// deleted only if its index row says it ended (completed, failed, cancelled). Returns the ids deleted (or absent
    /// already). Any exception: nothing was deleted.
    /// </summary>
    IReadOnlySet<string> Purge(IReadOnlyList<PurgeTarget> targets);

    /// <summary>Drops the connection after a failed transaction; the next commit opens a fresh one.</summary>
    void Reset();
}

/// <summary>A workflow to purge (<see cref="IJournalStore.Purge"/>), or to purge only if it ended.</summary>
internal readonly record struct PurgeTarget(string WorkflowId, bool OnlyIfEnded);

/// <summary>Writes of a batch fail on their own (see <see cref="IJournalStore.Commit"/>); nothing of the batch was committed.</summary>
/// <param name="writes">The writes' indexes in the batch; empty when the store could not tell which writes they were.</param>
/// <param name="cause">The database's error, which those writes fail with.</param>
internal sealed class JournalWriteRefusedException(IReadOnlyList<int> writes, Exception cause) : Exception(cause.Message, cause)
{
    /// <summary>The writes' indexes in the batch, in ascending order; empty when the store could not tell which.</summary>
    public IReadOnlyList<int> Writes { get; } = writes;
}
