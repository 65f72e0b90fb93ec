using System.Data.Common;
using Durable.Actors.Storage;

namespace Durable.Actors.Queues;

/// <summary>
/// A workflow on a queue: enqueued (<see cref="AdmittedAt"/> null), admitted and not ended (it holds a slot), or ended
/// (kept while its admission counts in a rate limit's window).
/// </summary>
internal sealed record QueueEntry(
    long Seq,
    string WorkflowId,
    string Queue,
    string? Key,
    int Priority,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? NotBefore,
    string WorkflowType,
    string InputJson,
    TimeSpan? Timeout,
    DateTimeOffset? AdmittedAt = null,
    bool Ended = false)
{
    /// <summary>A debounced entry (<see cref="EnqueueOptions.Debounce"/>): its input is read again when it is admitted.</summary>
    public bool Debounced { get; init; }

    /// <summary>A debounced entry's latest start: its first enqueue plus the debounce's longest wait; null for none.</summary>
    public DateTimeOffset? DebounceUntil { get; init; }
}

/// <summary>
/// The queues' entries: the table <c>durable_queue_entries</c> beside the journal (the engine's SQLite file, or
/// PostgreSQL on a cluster), written through connections of its own. An entry is written before its workflow's start (which records it ENQUEUED), so that a crash between
/// the two leaves an entry whose admission starts the workflow; its admission is written before the workflow is let go,
/// so that after a crash every admitted workflow still counts against the limits until its end is seen.
/// </summary>
internal sealed class QueueStore(SideTables db)
{
    public const string TableName = "durable_queue_entries";

    private readonly string _schema = $"""
        {TableSql(db, TableName)}
        {Indexes}
        """;

    private static string TableSql(SideTables db, string name) => $"""
        CREATE TABLE IF NOT EXISTS {name}
        (
            seq            {db.SerialKey},
            workflow_id    TEXT    NOT NULL,
            queue          TEXT    NOT NULL,
            partition_key  TEXT        NULL,
            priority       INTEGER NOT NULL,
            enqueued_at    {db.BigInt} NOT NULL,
            not_before     {db.BigInt}     NULL,
            dedup_id       TEXT        NULL,
            workflow_type  TEXT    NOT NULL,
            input          TEXT    NOT NULL,
            timeout        {db.BigInt}     NULL,
            admitted_at    {db.BigInt}     NULL,
            ended          {db.BigInt} NOT NULL DEFAULT 0,
            debounced      {db.BigInt} NOT NULL DEFAULT 0,
            debounce_until {db.BigInt}     NULL
        );
        """;

    private const string Indexes = """
        CREATE UNIQUE INDEX IF NOT EXISTS durable_queue_entries_live ON durable_queue_entries (workflow_id) WHERE ended = 0;
        CREATE UNIQUE INDEX IF NOT EXISTS durable_queue_entries_dedup ON durable_queue_entries (queue, dedup_id) WHERE dedup_id IS NOT NULL AND ended = 0;
        """;

    /// <summary>Whether this store saw that the table's numbers only grow (<see cref="KeepNumbersGrowing"/>).</summary>
    private volatile bool _numbersGrow;

    private const string Columns = "seq, workflow_id, queue, partition_key, priority, enqueued_at, not_before, workflow_type, input, timeout, admitted_at, ended, " +
        "debounced, debounce_until";

    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingAdd> _adds = new();
    private int _adding;

    /// <summary>
    /// Adds <paramref name="entry"/> (its <see cref="QueueEntry.Seq"/> is given here) unless the workflow is on a queue
    /// already, or <paramref name="deduplicationId"/> is in use on its queue: then the entry that holds it. Durable when
    /// the task ends: the adds that come while one is written are written together, in one transaction (each checked
    /// against those before it).
    /// </summary>
    /// <remarks>
    /// A debounced entry (<see cref="QueueEntry.Debounced"/>, its <see cref="QueueEntry.NotBefore"/> the end of its
    /// period) joins the debounced entry of its key that waits, if any: that one takes its input and its start time
    /// (no later than its <see cref="QueueEntry.DebounceUntil"/>), and is returned as not added.
    /// </remarks>
    public Task<(QueueEntry Entry, bool Added)> AddAsync(QueueEntry entry, string? deduplicationId)
    {
        var add = new PendingAdd(entry, deduplicationId, new(TaskCreationOptions.RunContinuationsAsynchronously));
        _adds.Enqueue(add);
        if (Interlocked.CompareExchange(ref _adding, 1, 0) == 0)
            _ = Task.Run(WriteAdds);
        return add.Done.Task;
    }

    /// <summary>Writes the adds waiting, a batch at a time, until none waits.</summary>
    private void WriteAdds()
    {
        var batch = new List<PendingAdd>();
        while (true)
        {
            while (batch.Count < 1000 && _adds.TryDequeue(out var add))
                batch.Add(add);
            if (batch.Count == 0)
            {
                Volatile.Write(ref _adding, 0);
                // An add that came after the last look, before the flag was down, starts no writer of its own.
                if (_adds.IsEmpty || Interlocked.CompareExchange(ref _adding, 1, 0) != 0)
                    return;
                continue;
            }
            try
            {
                using var connection = db.Open();
                using var transaction = db.BeginWrite(connection);
                if (!db.TableExists(connection, transaction, TableName))
                    db.Execute(connection, transaction, _schema);
                else
                    KeepNumbersGrowing(connection, transaction);
                var results = batch.Select(add => Add(connection, transaction, add.Entry, add.DeduplicationId)).ToList();
                transaction.Commit();
                _numbersGrow = true;
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception e)
            {
                foreach (var add in batch)
                    add.Done.TrySetException(e);
            }
            batch.Clear();
        }
    }

    private (QueueEntry Entry, bool Added) Add(DbConnection connection, DbTransaction transaction, QueueEntry entry, string? deduplicationId)
    {
        if (entry.Debounced && Read(connection, transaction, "WHERE ended = 0 AND admitted_at IS NULL AND debounced = 1 AND queue = $1 AND partition_key = $2 AND workflow_type = $3",
                entry.Queue, entry.Key, entry.WorkflowType).FirstOrDefault() is { } waiting)
        {
            var startAt = waiting.DebounceUntil is { } until && until < entry.NotBefore!.Value ? until : entry.NotBefore!.Value;
            using var update = db.Command(connection, transaction, "UPDATE durable_queue_entries SET input = $2, not_before = $3 WHERE seq = $1",
                waiting.Seq, entry.InputJson, startAt.UtcTicks);
            update.ExecuteNonQuery();
            return (waiting with { InputJson = entry.InputJson, NotBefore = startAt }, false);
        }
        var existing = Read(connection, transaction, "WHERE ended = 0 AND (workflow_id = $1 OR (queue = $2 AND dedup_id = $3))",
            entry.WorkflowId, entry.Queue, deduplicationId).FirstOrDefault();
        if (existing is not null)
            return (existing, false);
        using var insert = db.Command(connection, transaction, """
            INSERT INTO durable_queue_entries (workflow_id, queue, partition_key, priority, enqueued_at, not_before, dedup_id, workflow_type, input, timeout,
                debounced, debounce_until)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq
            """,
            entry.WorkflowId, entry.Queue, entry.Key, entry.Priority, entry.EnqueuedAt.UtcTicks, entry.NotBefore?.UtcTicks,
            deduplicationId, entry.WorkflowType, entry.InputJson, entry.Timeout?.Ticks, entry.Debounced ? 1 : 0, entry.DebounceUntil?.UtcTicks);
        return (entry with { Seq = (long)insert.ExecuteScalar()! }, true);
    }

    /// <summary>
    /// A dispatcher reads the entries numbered after the last it read, so an entry must never get the number of one
    /// deleted before it. A table of a file made before the numbers were <see cref="SideTables.SerialKey"/>'s (a SQLite
    /// rowid, which gives a new row the number of the last row once that was deleted) is made again with its rows, once.
    /// </summary>
    private void KeepNumbersGrowing(DbConnection connection, DbTransaction transaction)
    {
        if (_numbersGrow || !db.ReusesSerialKeys(connection, transaction, TableName))
            return;
        const string all = Columns + ", dedup_id";
        db.Execute(connection, transaction, TableSql(db, "durable_queue_entries_rebuilt"));
        db.Execute(connection, transaction, $"INSERT INTO durable_queue_entries_rebuilt ({all}) SELECT {all} FROM durable_queue_entries");
        db.Execute(connection, transaction, "DROP TABLE durable_queue_entries");
        db.Execute(connection, transaction, "ALTER TABLE durable_queue_entries_rebuilt RENAME TO durable_queue_entries");
        db.Execute(connection, transaction, Indexes);
    }

    private sealed record PendingAdd(QueueEntry Entry, string? DeduplicationId, TaskCompletionSource<(QueueEntry Entry, bool Added)> Done);

    /// <summary>Deletes an entry whose workflow could not be started (rejected): nothing was enqueued.</summary>
    public void Remove(long seq) => Update("DELETE FROM durable_queue_entries WHERE seq = $1", seq);

    /// <summary>
    /// The entries after <paramref name="afterSeq"/> that have not ended, and those that ended but were admitted since
    /// <paramref name="countedSince"/> (a rate limit's window); ended ones admitted earlier are deleted.
    /// </summary>
    public List<QueueEntry> Load(long afterSeq, DateTimeOffset countedSince)
    {
        using var connection = db.Open();
        if (!db.TableExists(connection, null, TableName))
            return [];
        if (!_numbersGrow)
        {
            using var transaction = db.BeginWrite(connection);
            KeepNumbersGrowing(connection, transaction);
            transaction.Commit();
            _numbersGrow = true;
        }
        db.Execute(connection, null, "DELETE FROM durable_queue_entries WHERE ended = 1 AND (admitted_at IS NULL OR admitted_at < $1)", countedSince.UtcTicks);
        return Read(connection, null, "WHERE seq > $1 ORDER BY seq", afterSeq);
    }

    /// <summary>
    /// Records the admission of <paramref name="seqs"/> at <paramref name="at"/>, in one transaction, and returns the
    /// inputs of the debounced ones as they stand then (an enqueue of the key joins the entry up to this moment, and
    /// starts a new one after it).
    /// </summary>
    public Dictionary<long, string> Admitted(IReadOnlyList<long> seqs, DateTimeOffset at)
    {
        using var connection = db.Open();
        using var transaction = db.BeginWrite(connection);
        using var update = db.Command(connection, transaction,
            "UPDATE durable_queue_entries SET admitted_at = $2 WHERE seq = $1 RETURNING debounced, input", [0L, at.UtcTicks]);
        var inputs = new Dictionary<long, string>();
        foreach (var seq in seqs)
        {
            update.Parameters[0].Value = seq;
            using var reader = update.ExecuteReader();
            if (reader.Read() && reader.GetInt64(0) != 0)
                inputs[seq] = reader.GetString(1);
        }
        transaction.Commit();
        return inputs;
    }

    /// <summary>The entry's workflow gave its slot back until <paramref name="wakeAt"/>: enqueued again, not before then.</summary>
    public void Released(long seq, DateTimeOffset wakeAt) =>
        Update("UPDATE durable_queue_entries SET admitted_at = NULL, not_before = $2 WHERE seq = $1", seq, wakeAt.UtcTicks);

    /// <summary>
    /// The workflows of these entries ended, in one transaction: their slots are free; an entry is kept (<c>Keep</c>)
    /// while its start counts in a rate limit's window, deleted otherwise.
    /// </summary>
    public void Ended(IReadOnlyList<(long Seq, bool Keep)> ends)
    {
        using var connection = db.Open();
        using var transaction = db.BeginWrite(connection);
        using var keep = db.Command(connection, transaction, "UPDATE durable_queue_entries SET ended = 1 WHERE seq = $1", 0L);
        using var delete = db.Command(connection, transaction, "DELETE FROM durable_queue_entries WHERE seq = $1", 0L);
        foreach (var (seq, kept) in ends)
        {
            var command = kept ? keep : delete;
            command.Parameters[0].Value = seq;
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>
    /// The entries that have not ended, of one queue or of all, in queue order. An entry whose workflow the index
    /// already shows ended is left out: the dispatcher writes an end in the background after the workflow's end is
    /// committed (and a crash between the two leaves it for the next host's start), so that what a reader sees
    /// agrees with the workflows' statuses the moment their results are out.
    /// </summary>
    public List<QueueEntry> Live(string? queue)
    {
        using var connection = db.Open();
        if (!db.TableExists(connection, null, TableName))
            return [];
        var live = db.TableExists(connection, null, "workflow_index")
            ? "ended = 0 AND NOT EXISTS (SELECT 1 FROM workflow_index i WHERE i.workflow_id = durable_queue_entries.workflow_id " +
              "AND i.status IN ('completed', 'failed', 'cancelled'))"
            : "ended = 0";
        return queue is null
            ? Read(connection, null, $"WHERE {live} ORDER BY queue, priority, seq")
            : Read(connection, null, $"WHERE {live} AND queue = $1 ORDER BY priority, seq", queue);
    }

    private List<QueueEntry> Read(DbConnection connection, DbTransaction? transaction, string where, params object?[] values)
    {
        using var command = db.Command(connection, transaction, $"SELECT {Columns} FROM durable_queue_entries {where}", values);
        using var reader = command.ExecuteReader();
        var entries = new List<QueueEntry>();
        while (reader.Read())
        {
            entries.Add(new QueueEntry(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetInt32(4),
                Time(reader.GetInt64(5)),
                reader.IsDBNull(6) ? null : Time(reader.GetInt64(6)),
                reader.GetString(7),
                reader.GetString(8),
                reader.IsDBNull(9) ? null : TimeSpan.FromTicks(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : Time(reader.GetInt64(10)),
                reader.GetInt64(11) != 0)
            {
                Debounced = reader.GetInt64(12) != 0,
                DebounceUntil = reader.IsDBNull(13) ? null : Time(reader.GetInt64(13)),
            });
        }
        return entries;
    }

    private void Update(string sql, params object[] values)
    {
        using var connection = db.Open();
        if (db.TableExists(connection, null, TableName))
            db.Execute(connection, null, sql, values);
    }

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);
}
