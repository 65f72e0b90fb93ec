using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// The tables of cluster mode on PostgreSQL: Akka.Persistence.Sql's <c>journal</c> and <c>tags</c> in the exact layout
/// its auto-initialize creates (1.5.73, tag-write-mode TagTable, writer_uuid column), the engine's
/// <c>workflow_index</c>, and <c>durable_settings</c>, the settings every node must share (the bucket count). Created
/// when missing, in one transaction under an advisory lock, so that nodes starting at once neither race nor see a
/// half-built index; a database written before the index existed gets it built from the journal there, while inserts
/// into the journal wait.
/// </summary>
/// <remarks>
/// The index has the SQLite index's columns and meaning (<see cref="WorkflowIndexRow"/>): times are UTC ticks
/// (<c>bigint</c>, exact to the event's 100 ns, so that cursors and the fold agree), the status is text. One column
/// more: <c>id_hash</c>, the id's FNV-1a hash (<see cref="Buckets.Hash"/>), so that a bucket recovers only its own
/// running workflows. <c>workflow_id</c> sorts by code point (<c>COLLATE "C"</c>), as SQLite and the fallback do.
/// </remarks>
internal static class PostgresSchema
{
    // The advisory lock of schema creation and index builds: the bytes of "Durable", then 1.
    private const long LockKey = 0x447572_61626C65_01;

    private const string JournalTables = """
        CREATE TABLE IF NOT EXISTS journal
        (
            ordering        bigint  NOT NULL GENERATED ALWAYS AS IDENTITY,
            created         bigint  NOT NULL,
            deleted         boolean NOT NULL,
            persistence_id  text    NOT NULL,
            sequence_number bigint  NOT NULL,
            message         bytea   NOT NULL,
            manifest        text        NULL,
            identifier      integer     NULL,
            writer_uuid     text        NULL,
            CONSTRAINT "PK_journal" PRIMARY KEY (ordering),
            CONSTRAINT journal_uq UNIQUE (persistence_id, sequence_number)
        );
        CREATE INDEX IF NOT EXISTS journal_created_idx ON journal (created);
        CREATE INDEX IF NOT EXISTS journal_sequence_number_idx ON journal (sequence_number);
        CREATE TABLE IF NOT EXISTS tags
        (
            ordering_id    bigint NOT NULL,
            tag            text   NOT NULL,
            sequence_nr    bigint NOT NULL,
            persistence_id text   NOT NULL,
            CONSTRAINT "PK_tags" PRIMARY KEY (ordering_id, tag)
        );
        CREATE INDEX IF NOT EXISTS tags_persistence_id_sequence_nr_idx ON tags (persistence_id, sequence_nr);
        CREATE INDEX IF NOT EXISTS tags_tag_idx ON tags (tag);
        """;

    private const string IndexTable = """
        CREATE TABLE workflow_index
        (
            workflow_id     text COLLATE "C" NOT NULL PRIMARY KEY,
            workflow_type   text    NOT NULL,
            status          text    NOT NULL,
            created_at      bigint  NOT NULL,
            updated_at      bigint  NOT NULL,
            ended_at        bigint      NULL,
            error           text        NULL,
            step_count      integer NOT NULL DEFAULT 0,
            completed_steps integer NOT NULL DEFAULT 0,
            failed_attempts integer NOT NULL DEFAULT 0,
            wake_at         bigint      NULL,
            id_hash         bigint  NOT NULL
        );
        CREATE INDEX workflow_index_created_idx ON workflow_index (created_at, workflow_id);
        CREATE INDEX workflow_index_status_idx ON workflow_index (status, created_at, workflow_id);
        CREATE INDEX workflow_index_type_idx ON workflow_index (workflow_type, created_at, workflow_id);
        """;

    // A workflow's custom attributes, as in SQLite (WorkflowIndexStore): texts compare by code point there too, and the
    // trigger deletes those of a workflow started anew under its id (IndexInsertSql's reset).
    private const string AttributesTable = """
        CREATE TABLE workflow_attributes
        (
            workflow_id text COLLATE "C" NOT NULL,
            name        text COLLATE "C" NOT NULL,
            kind        text    NOT NULL,
            text_value  text COLLATE "C" NULL,
            num_value   double precision NULL,
            PRIMARY KEY (workflow_id, name)
        );
        CREATE INDEX workflow_attributes_text_idx ON workflow_attributes (name, kind, text_value);
        CREATE INDEX workflow_attributes_num_idx ON workflow_attributes (name, kind, num_value);
        CREATE OR REPLACE FUNCTION workflow_index_restarted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM workflow_attributes WHERE workflow_id = NEW.workflow_id;
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS workflow_index_restarted ON workflow_index;
        CREATE TRIGGER workflow_index_restarted AFTER UPDATE OF created_at ON workflow_index
            FOR EACH ROW EXECUTE FUNCTION workflow_index_restarted();
        """;

    // Name and value of a setting the cluster's nodes must agree on, recorded by the first node that starts.
    private const string SettingsTable = """
        CREATE TABLE IF NOT EXISTS durable_settings
        (
            name  text NOT NULL PRIMARY KEY,
            value text NOT NULL
        );
        """;

    /// <summary>The key of the bucket count in <c>durable_settings</c>: the setting's own path.</summary>
    public const string BucketsSetting = "durable-actors.cluster.buckets";

    public const string Columns = WorkflowIndexQueries.Columns;

    /// <summary>
    /// Creates what is missing of the four tables; builds the index from the journal when the journal had rows before
    /// the index existed. Returns whether it created the index. Reads first: a database that has everything takes no lock.
    /// </summary>
    public static async Task<bool> EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (await AllExistAsync(connection, null, cancellationToken).ConfigureAwait(false))
            return false;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken).ConfigureAwait(false);
        var created = false;
        if (!await AllExistAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(connection, transaction, JournalTables, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, SettingsTable, cancellationToken).ConfigureAwait(false);
            // Rows built anew take the attributes anew too (the trigger on the rows went with them).
            var rows = !await ExistsAsync(connection, transaction, "workflow_index", cancellationToken).ConfigureAwait(false);
            var attributes = rows || !await ExistsAsync(connection, transaction, "workflow_attributes", cancellationToken).ConfigureAwait(false);
            if (rows || attributes)
            {
                if (rows)
                    await ExecuteAsync(connection, transaction, "DROP TABLE IF EXISTS workflow_attributes;" + IndexTable, cancellationToken).ConfigureAwait(false);
                if (attributes)
                    await ExecuteAsync(connection, transaction, AttributesTable, cancellationToken).ConfigureAwait(false);
                // SHARE: no event is inserted while the journal is read and the index filled (writers of other nodes wait).
                await ExecuteAsync(connection, transaction, "LOCK TABLE journal IN SHARE MODE", cancellationToken).ConfigureAwait(false);
                await FillAsync(connection, transaction, rows, attributes, cancellationToken).ConfigureAwait(false);
                created = true;
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return created;
    }

    /// <summary>
    /// Records <paramref name="value"/> as the setting <paramref name="name"/> unless one is recorded already (creating
    /// <c>durable_settings</c> when missing, under the lock of schema creation, and nothing else), and returns the
    /// recorded value: the first node's, whichever node asks.
    /// </summary>
    public static async Task<string> RecordSettingAsync(NpgsqlConnection connection, string name, string value, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, null, "durable_settings", cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, SettingsTable, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        // Two statements that race with another node's are still one answer: the insert of only one of them succeeds.
        await using (var insert = new NpgsqlCommand("INSERT INTO durable_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", connection))
        {
            insert.Parameters.Add(Text(name));
            insert.Parameters.Add(Text(value));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using var read = new NpgsqlCommand("SELECT value FROM durable_settings WHERE name = $1", connection);
        read.Parameters.Add(Text(name));
        return (string)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Folds every workflow's events (one workflow after another, in sequence order) and inserts its row and its
    /// attributes, or only one of the two.
    /// </summary>
    private static async Task FillAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, bool fillRows, bool fillAttributes, CancellationToken cancellationToken)
    {
        var rows = new List<WorkflowIndexRow>();
        var attributes = new List<(string WorkflowId, string Name, AttributeValue Value)>();
        var set = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand(
            """
            SELECT persistence_id, message, manifest FROM journal
            WHERE persistence_id LIKE 'workflow-%' AND NOT deleted AND identifier = $1
            ORDER BY persistence_id, sequence_number
            """, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<int> { TypedValue = JournalEventSerializer.Id });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            string? current = null;
            WorkflowIndexRow? row = null;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var persistenceId = reader.GetString(0);
                if (!persistenceId.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
                    continue;
                if (persistenceId != current)
                {
                    Add(row);
                    current = persistenceId;
                    row = null;
                }
                var e = JournalEventSerializer.Read((byte[])reader.GetValue(1), reader.GetString(2));
                row = WorkflowIndex.Apply(row, persistenceId[WorkflowActor.PersistenceIdPrefix.Length..], e);
                WorkflowIndex.ApplyAttributes(set, e);
            }
            Add(row);
        }

        void Add(WorkflowIndexRow? row)
        {
            if (row is null)
                return;
            rows.Add(row);
            attributes.AddRange(set.Select(a => (row.WorkflowId, a.Key, a.Value)));
            set.Clear();
        }

        foreach (var chunk in fillAttributes ? attributes.Chunk(500) : [])
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var (workflowId, name, value) in chunk)
                batch.BatchCommands.Add(PostgresJournalStore.SetAttribute(workflowId, name, value));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var chunk in fillRows ? rows.Chunk(500) : [])
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var row in chunk)
            {
                var insert = new NpgsqlBatchCommand($"INSERT INTO workflow_index ({Columns}, id_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
                insert.Parameters.Add(Text(row.WorkflowId));
                insert.Parameters.Add(Text(row.WorkflowType));
                insert.Parameters.Add(Text(row.Status));
                insert.Parameters.Add(Ticks(row.CreatedAt));
                insert.Parameters.Add(Ticks(row.UpdatedAt));
                insert.Parameters.Add(Ticks(row.EndedAt));
                insert.Parameters.Add(Text(row.Error));
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.StepCount });
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.CompletedSteps });
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.FailedAttempts });
                insert.Parameters.Add(Ticks(row.WakeAt));
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Buckets.Hash(row.WorkflowId) });
                batch.BatchCommands.Add(insert);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    public static NpgsqlParameter Ticks(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = value is { } time ? time.UtcTicks : DBNull.Value };

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static async Task<bool> AllExistAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT to_regclass('journal') IS NOT NULL AND to_regclass('tags') IS NOT NULL AND to_regclass('workflow_index') IS NOT NULL " +
            "AND to_regclass('durable_settings') IS NOT NULL AND to_regclass('workflow_attributes') IS NOT NULL",
            connection, transaction);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection, transaction);
        command.Parameters.Add(Text(table));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
