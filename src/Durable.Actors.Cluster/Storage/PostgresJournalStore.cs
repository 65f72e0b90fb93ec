using Durable.Actors.Advanced;
using Durable.Actors.Journal;
using Durable.Actors.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// PostgreSQL's part of the <see cref="JournalWriter"/>: a transaction is one <see cref="NpgsqlBatch"/>, so one round
/// trip, whose statements PostgreSQL runs as one implicit transaction (all of them, or none). Each row goes to the
/// plugin's <c>journal</c> table (and its tags to <c>tags</c>), and its event's change to <c>workflow_index</c>. A
/// statement that fails on its own values (class 23, integrity: above all a sequence number another incarnation of the
/// workflow already wrote, the fence of cluster mode; class 22, data) refuses the write it belongs to. Any other error (the connection lost, the server shutting down, a deadlock) fails the
/// transaction: while PostgreSQL is gone nothing is written and nothing acknowledged, and writing resumes when it is
/// back.
/// </summary>
internal sealed class PostgresJournalStore : IJournalStore
{
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

    private const string SetAttributeSql = """
        INSERT INTO workflow_attributes (workflow_id, name, kind, text_value, num_value) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (workflow_id, name) DO UPDATE SET kind = excluded.kind, text_value = excluded.text_value, num_value = excluded.num_value
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly object _gate = new();
    private NpgsqlConnection? _connection;
    private Task? _schema;

    private PostgresJournalStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // The writer runs the same few statements thousands of times: let Npgsql prepare them on the server.
        if (builder.MaxAutoPrepare == 0)
            builder.MaxAutoPrepare = 16;
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    /// <summary>
    /// The writer of a node's journal on PostgreSQL, and its store (for <see cref="SchemaReadyAsync"/>). Its stop waits
    /// up to 30 s: with PostgreSQL unreachable, each attempt waits for Npgsql's connection timeout.
    /// </summary>
    public static (JournalWriter Writer, PostgresJournalStore Store) Writer(string connectionString, IJournalWriteGate? gate = null)
    {
        var store = new PostgresJournalStore(connectionString);
        return (new JournalWriter(store, TimeSpan.FromSeconds(30), gate), store);
    }

    public int MaxRowsPerTransaction => 2000;

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

    public void Commit(IReadOnlyList<IReadOnlyList<JournalRow>> writes)
    {
        var connection = Open();
        using var statements = new NpgsqlBatch(connection);
        foreach (var row in writes.SelectMany(w => w))
        {
            statements.BatchCommands.Add(Insert(row));
            if (row.Index is { } change)
            {
                statements.BatchCommands.Add(Index(change));
                foreach (var (name, value) in change.Attributes ?? [])
                    statements.BatchCommands.Add(value is { } v ? SetAttribute(change.WorkflowId, name, v) : RemoveAttribute(change.WorkflowId, name));
            }
        }
        try
        {
            // No explicit transaction: PostgreSQL runs the statements of one batch (one Sync) as one implicit transaction.
            statements.ExecuteNonQuery();
        }
        catch (PostgresException e) when (FailsOnItsOwn(e))
        {
            // PostgreSQL does not say which statement of the batch failed (Npgsql 10 leaves the error's batch command
            // unset): a taken sequence number is found by its key; anything else, the writer sorts out write by write.
            throw new JournalWriteRefusedException(
                e.SqlState == PostgresErrorCodes.UniqueViolation && writes.Count > 1 ? Taken(writes) : [], e);
        }
    }

    /// <summary>The indexes of the writes with a sequence number the journal already has (another incarnation wrote it).</summary>
    private List<int> Taken(IReadOnlyList<IReadOnlyList<JournalRow>> writes)
    {
        var rows = writes.SelectMany(w => w).ToArray();
        using var command = new NpgsqlCommand(
            "SELECT j.persistence_id, j.sequence_number FROM journal j JOIN unnest($1, $2) AS w(pid, seq) ON j.persistence_id = w.pid AND j.sequence_number = w.seq",
            Open());
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(r => r.PersistenceId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. rows.Select(r => r.SequenceNr)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        var taken = new HashSet<(string, long)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
                taken.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return [.. Enumerable.Range(0, writes.Count).Where(i => writes[i].Any(r => taken.Contains((r.PersistenceId, r.SequenceNr))))];
    }

    public IReadOnlySet<string> Purge(IReadOnlyList<PurgeTarget> targets)
    {
        // The workflows to delete whatever their status, and those to delete only if their index row says they ended:
        // the ended ones are read first and their rows locked, so that the deletes take the same set.
        var always = targets.Where(t => !t.OnlyIfEnded).Select(t => t.WorkflowId).Distinct().ToArray();
        var ifEnded = targets.Where(t => t.OnlyIfEnded).Select(t => t.WorkflowId).Distinct().ToArray();
        const string ended = "SELECT workflow_id FROM workflow_index WHERE workflow_id = ANY($2) AND status IN ('completed', 'failed', 'cancelled')";
        const string purged = $"SELECT unnest($1) UNION {ended}";
        using var statements = new NpgsqlBatch(Open());
        foreach (var sql in new[]
        {
            ended + " FOR UPDATE",
            $"DELETE FROM tags WHERE persistence_id IN (SELECT 'workflow-' || id FROM ({purged}) AS purged(id))",
            $"DELETE FROM journal WHERE persistence_id IN (SELECT 'workflow-' || id FROM ({purged}) AS purged(id))",
            $"DELETE FROM workflow_index WHERE workflow_id IN ({purged})",
            $"DELETE FROM workflow_attributes WHERE workflow_id IN ({purged})",
        })
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = always });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = ifEnded });
            statements.BatchCommands.Add(command);
        }
        // One batch, one implicit transaction: each workflow is whole or gone. Disposing of the reader runs the rest.
        var deleted = new HashSet<string>(always, StringComparer.Ordinal);
        using (var reader = statements.ExecuteReader())
        {
            while (reader.Read())
                deleted.Add(reader.GetString(0));
        }
        return deleted;
    }

    public void Reset()
    {
        _connection?.Dispose();
        _connection = null;
    }

    public void Dispose()
    {
        Reset();
        _dataSource.Dispose();
    }

    private NpgsqlConnection Open()
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open)
            return open;
        Reset();
        // The writer's own thread: waiting here holds up nothing else.
        SchemaReadyAsync().GetAwaiter().GetResult();
        return _connection = _dataSource.OpenConnection();
    }

    /// <summary>
    /// Whether an error belongs to the statement's own values (class 23, integrity: a duplicate sequence number; class
    /// 22, data: a value the column refuses) rather than to the database, the connection or the transaction.
    /// </summary>
    private static bool FailsOnItsOwn(PostgresException e) => e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("22", StringComparison.Ordinal);

    private static NpgsqlBatchCommand Insert(JournalRow row)
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

    /// <summary>Sets one attribute of a workflow (the last value of a name wins).</summary>
    internal static NpgsqlBatchCommand SetAttribute(string workflowId, string name, AttributeValue value)
    {
        var command = new NpgsqlBatchCommand(SetAttributeSql);
        command.Parameters.Add(PostgresSchema.Text(workflowId));
        command.Parameters.Add(PostgresSchema.Text(name));
        command.Parameters.Add(PostgresSchema.Text(value.KindText));
        command.Parameters.Add(PostgresSchema.Text(value.InText ? value.Text : null));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = value.InText ? DBNull.Value : value.Number });
        return command;
    }

    private static NpgsqlBatchCommand RemoveAttribute(string workflowId, string name)
    {
        var command = new NpgsqlBatchCommand("DELETE FROM workflow_attributes WHERE workflow_id = $1 AND name = $2");
        command.Parameters.Add(PostgresSchema.Text(workflowId));
        command.Parameters.Add(PostgresSchema.Text(name));
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
        // A step's start leaves the status as it is (running, or paused: see StatusImplied).
        var setsStatus = change.Status is not null && !change.StatusImplied;
        p.Add(new NpgsqlParameter<bool> { TypedValue = setsStatus });
        p.Add(PostgresSchema.Text(setsStatus ? change.Status : null));
        p.Add(PostgresSchema.Ticks(change.EndedAt));
        p.Add(new NpgsqlParameter<bool> { TypedValue = change.SetsError });
        p.Add(PostgresSchema.Text(change.Error));
        p.Add(new NpgsqlParameter<bool> { TypedValue = change.SetsWakeAt });
        p.Add(PostgresSchema.Ticks(change.WakeAt));
        return update;
    }
}
