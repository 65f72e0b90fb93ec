using System.Threading.Channels;
using Durable.Actors.Journal;
using Durable.Actors.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// The single writer of a node's journal rows on PostgreSQL: one connection, one loop. Writes queue up while a commit
/// is under way and the next transaction takes all of them (group commit): one <see cref="NpgsqlBatch"/>, so one round
/// trip, whose statements PostgreSQL runs as one implicit transaction (all of them, or none). Each row goes to the
/// plugin's <c>journal</c> table (and its tags to <c>tags</c>), and its event's change to <c>workflow_index</c>, in
/// that transaction.
/// </summary>
/// <remarks>
/// Each queued write is all or nothing on its own: when one fails on its own (an integrity or data error: above all a
/// sequence number another incarnation of the workflow already wrote, the fence of cluster mode), the transaction is
/// rolled back and run again without it, so that only that write fails. Any other error (the connection lost, the
/// server shutting down, a deadlock) fails every write of the transaction, and the next one opens a new connection:
/// while PostgreSQL is gone nothing is written and nothing acknowledged, and writing resumes when it is back.
/// </remarks>
internal sealed class PostgresJournalWriter : IAsyncDisposable
{
    private sealed class Write(IReadOnlyList<JournalWriter.Row> rows)
    {
        public IReadOnlyList<JournalWriter.Row> Rows { get; } = rows;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // Bounds one transaction, so that a burst of writes is committed in a few steps rather than one long one.
    private const int MaxRowsPerTransaction = 2000;

    private const string InsertSql = """
        INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
        VALUES ($1, false, $2, $3, $4, $5, $6, $7)
        """;

    // A tagged row: the journal row and its tag rows in one statement, the tags taking the row's generated ordering.
    private const string InsertTaggedSql = """
        WITH j AS (
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
            VALUES ($1, false, $2, $3, $4, $5, $6, $7) RETURNING ordering)
        INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) SELECT j.ordering, t.tag, $3, $2 FROM j, unnest($8) AS t(tag)
        """;

    // A workflow's first event creates its row (or resets it: a workflow started again under the same id).
    private const string IndexInsertSql = """
        INSERT INTO workflow_index (workflow_id, workflow_type, status, created_at, updated_at, id_hash) VALUES ($1, $2, $3, $4, $4, $5)
        ON CONFLICT (workflow_id) DO UPDATE SET workflow_type = excluded.workflow_type, status = excluded.status,
            created_at = excluded.created_at, updated_at = excluded.updated_at, ended_at = NULL, error = NULL,
            step_count = 0, completed_steps = 0, failed_attempts = 0, wake_at = NULL, id_hash = excluded.id_hash
        """;

    // Every other change in one statement (WorkflowIndexChange.ApplyTo, in SQL): counts are increments, the status is
    // set with its end, the error and wake_at only when the change sets them.
    private const string IndexUpdateSql = """
        UPDATE workflow_index SET updated_at = $2, step_count = step_count + $3, completed_steps = completed_steps + $4,
            failed_attempts = failed_attempts + $5,
            status = CASE WHEN $6 THEN $7 ELSE status END, ended_at = CASE WHEN $6 THEN $8 ELSE ended_at END,
            error = CASE WHEN $9 THEN $10 ELSE error END, wake_at = CASE WHEN $11 THEN $12 ELSE wake_at END
        WHERE workflow_id = $1
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly object _gate = new();
    private NpgsqlConnection? _connection;
    private Task? _schema;

    public PostgresJournalWriter(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // The writer runs the same few statements thousands of times: let Npgsql prepare them on the server.
        if (builder.MaxAutoPrepare == 0)
            builder.MaxAutoPrepare = 16;
        _dataSource = NpgsqlDataSource.Create(builder);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Transactions committed so far (tests: writes that arrived together shared one).</summary>
    public long Transactions { get; private set; }

    /// <summary>
    /// Ends when the tables exist (created, and the index built, when missing): before the plugin's first read of this
    /// journal (recovery of a workflow on a new database) and the writer's first write. Tried again after a failure.
    /// </summary>
    public Task SchemaReadyAsync()
    {
        lock (_gate)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
                _schema = EnsureSchemaAsync();
            return _schema;
        }
    }

    private async Task EnsureSchemaAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await PostgresSchema.EnsureAsync(connection, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="rows"/> atomically; the task ends when they are committed or failed.</summary>
    public Task WriteAsync(IReadOnlyList<JournalWriter.Row> rows)
    {
        var write = new Write(rows);
        return _queue.Writer.TryWrite(write)
            ? write.Done.Task
            : Task.FromException(new InvalidOperationException("The journal is stopping; nothing was written."));
    }

    /// <summary>
    /// Refuses further writes and returns at once; the task ends when what was queued is committed (or failed) and the
    /// connections closed, or after 30 s (PostgreSQL unreachable: each attempt waits for Npgsql's connection timeout),
    /// whichever comes first (the bound is not an error). The caller (the journal's PostStop) must not wait for it: see
    /// <see cref="JournalStops"/>.
    /// </summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still trying: what it commits later is durable; what it never commits was never acknowledged. Its data
            // source stays open for it.
            return;
        }
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task RunAsync()
    {
        var batch = new List<Write>();
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var rows = 0;
            while (reader.TryPeek(out var next) && (rows == 0 || rows + next.Rows.Count <= MaxRowsPerTransaction) && reader.TryRead(out next))
            {
                rows += next.Rows.Count;
                batch.Add(next);
            }
            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Never leave a write waiting, nor the loop dead: whatever escaped fails what is not ended yet.
                foreach (var write in batch)
                    write.Done.TrySetException(e);
            }
            batch.Clear();
        }
        if (_connection is not null)
            await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task CommitAsync(List<Write> batch)
    {
        while (batch.Count > 0)
        {
            PostgresException? own;
            List<Write> failing = [];
            try
            {
                own = await TryCommitAsync(batch).ConfigureAwait(false);
                if (own is not null && batch.Count > 1 && own.SqlState == PostgresErrorCodes.UniqueViolation)
                    failing = await TakenAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Nothing of this transaction is durable: every write in it fails. A fresh connection for the next one.
                if (_connection is not null)
                    await _connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
                foreach (var write in batch)
                    write.Done.TrySetException(e);
                return;
            }
            if (own is null)
            {
                foreach (var write in batch)
                    write.Done.TrySetResult();
                return;
            }
            // A write would fail in any transaction: it fails alone, and the rest of the batch, rolled back with it, is
            // committed again without it.
            if (batch.Count == 1)
            {
                batch[0].Done.TrySetException(own);
                return;
            }
            if (failing.Count == 0)
            {
                // Not found by its keys (a duplicate within the batch, a value the table refuses): each write on its own.
                foreach (var write in batch)
                    await CommitAsync([write]).ConfigureAwait(false);
                return;
            }
            foreach (var write in failing)
            {
                write.Done.TrySetException(own);
                batch.Remove(write);
            }
        }
    }

    /// <summary>Runs the batch as one transaction: null when committed, the error when one of its writes failed on its own.</summary>
    private async Task<PostgresException?> TryCommitAsync(List<Write> batch)
    {
        var connection = await OpenAsync().ConfigureAwait(false);
        await using var statements = new NpgsqlBatch(connection);
        foreach (var write in batch)
        {
            foreach (var row in write.Rows)
            {
                statements.BatchCommands.Add(Insert(row));
                if (row.Index is { } change)
                    statements.BatchCommands.Add(Index(change));
            }
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // No explicit transaction: PostgreSQL runs the statements of one batch (one Sync) as one implicit transaction.
            await statements.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (PostgresException e) when (FailsOnItsOwn(e))
        {
            return e;
        }
        Observability.Telemetry.Committed(started, batch.Count);
        Transactions++;
        return null;
    }

    /// <summary>The writes of <paramref name="batch"/> with a sequence number the journal already has (another incarnation wrote it).</summary>
    private async Task<List<Write>> TakenAsync(List<Write> batch)
    {
        var ids = batch.SelectMany(w => w.Rows).Select(r => r.PersistenceId).ToArray();
        var numbers = batch.SelectMany(w => w.Rows).Select(r => r.SequenceNr).ToArray();
        await using var command = new NpgsqlCommand(
            "SELECT j.persistence_id, j.sequence_number FROM journal j JOIN unnest($1, $2) AS w(pid, seq) ON j.persistence_id = w.pid AND j.sequence_number = w.seq",
            await OpenAsync().ConfigureAwait(false));
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = numbers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        var taken = new HashSet<(string, long)>();
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
                taken.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return batch.Where(w => w.Rows.Any(r => taken.Contains((r.PersistenceId, r.SequenceNr)))).ToList();
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open)
            return open;
        if (_connection is not null)
            await _connection.DisposeAsync().ConfigureAwait(false);
        _connection = null;
        await SchemaReadyAsync().ConfigureAwait(false);
        return _connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Whether an error belongs to the statement's own values (class 23, integrity: a duplicate sequence number; class
    /// 22, data: a value the column refuses) rather than to the database, the connection or the transaction.
    /// </summary>
    private static bool FailsOnItsOwn(PostgresException e) => e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("22", StringComparison.Ordinal);

    private static NpgsqlBatchCommand Insert(JournalWriter.Row row)
    {
        var command = new NpgsqlBatchCommand(row.Tags.Length > 0 ? InsertTaggedSql : InsertSql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<long> { TypedValue = row.Created });
        p.Add(new NpgsqlParameter<string> { TypedValue = row.PersistenceId });
        p.Add(new NpgsqlParameter<long> { TypedValue = row.SequenceNr });
        p.Add(new NpgsqlParameter<byte[]> { TypedValue = row.Message });
        p.Add(new NpgsqlParameter<string> { TypedValue = row.Manifest });
        p.Add(new NpgsqlParameter<int> { TypedValue = row.Identifier });
        p.Add(new NpgsqlParameter<string> { TypedValue = row.WriterUuid });
        if (row.Tags.Length > 0)
            p.Add(new NpgsqlParameter<string[]> { TypedValue = row.Tags, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return command;
    }

    private static NpgsqlBatchCommand Index(WorkflowIndexChange change)
    {
        if (change.Started is { } started)
        {
            var insert = new NpgsqlBatchCommand(IndexInsertSql);
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = change.WorkflowId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = started.WorkflowType });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = WorkflowIndex.StatusText(WorkflowRunStatus.Running) });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = started.At.UtcTicks });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Buckets.Hash(change.WorkflowId) });
            return insert;
        }
        var update = new NpgsqlBatchCommand(IndexUpdateSql);
        var p = update.Parameters;
        p.Add(new NpgsqlParameter<string> { TypedValue = change.WorkflowId });
        p.Add(new NpgsqlParameter<long> { TypedValue = change.At.UtcTicks });
        p.Add(new NpgsqlParameter<int> { TypedValue = change.NewSteps });
        p.Add(new NpgsqlParameter<int> { TypedValue = change.CompletedSteps });
        p.Add(new NpgsqlParameter<int> { TypedValue = change.FailedAttempts });
        p.Add(new NpgsqlParameter<bool> { TypedValue = change.Status is not null });
        p.Add(PostgresSchema.Text(change.Status));
        p.Add(PostgresSchema.Ticks(change.EndedAt));
        p.Add(new NpgsqlParameter<bool> { TypedValue = change.SetsError });
        p.Add(PostgresSchema.Text(change.Error));
        p.Add(new NpgsqlParameter<bool> { TypedValue = change.SetsWakeAt });
        p.Add(PostgresSchema.Ticks(change.WakeAt));
        return update;
    }
}
