using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// The <c>workflow_index</c> table on the engine's SQLite journal: one row per workflow (<see cref="WorkflowIndexRow"/>).
/// The journal's writer keeps it (<see cref="JournalWriter"/>, in the transaction of the events); this class creates
/// it, builds it from the journal when it is missing (a database written before it existed, or one whose index was
/// dropped), and reads pages of it.
/// </summary>
/// <remarks>
/// Times are UTC ticks (INTEGER), the status is text (<see cref="WorkflowIndex.StatusText"/>), and <c>wake_at</c> is
/// when the wait of the workflow's top-level code is due (<see cref="WorkflowIndexRow"/>), null when it does not wait
/// so. The table is created and filled in one transaction, so a table that exists is complete.
/// </remarks>
internal static class WorkflowIndexStore
{
    public const string TableName = "workflow_index";

    /// <summary>The custom attributes of the workflows (<see cref="AttributeChanges"/>): one row per workflow and name.</summary>
    public const string AttributesTableName = "workflow_attributes";

    // A workflow's attributes: the value of a text or time in text_value, of a number or bool in num_value, kind its
    // letter (AttributeKind). A filter reads an index of the name, the kind and the value. The trigger deletes the
    // attributes of a workflow started anew under its id (InsertSql's reset, the one UPDATE that sets created_at), so
    // that a workflow's start costs no statement more; a purge deletes them itself.
    private const string AttributesSchema = """
        CREATE TABLE workflow_attributes
        (
            workflow_id TEXT NOT NULL,
            name        TEXT NOT NULL,
            kind        TEXT NOT NULL,
            text_value  TEXT     NULL,
            num_value   REAL     NULL,
            PRIMARY KEY (workflow_id, name)
        ) WITHOUT ROWID;
        CREATE INDEX workflow_attributes_text_idx ON workflow_attributes (name, kind, text_value);
        CREATE INDEX workflow_attributes_num_idx ON workflow_attributes (name, kind, num_value);
        DROP TRIGGER IF EXISTS workflow_index_restarted;
        CREATE TRIGGER workflow_index_restarted AFTER UPDATE OF created_at ON workflow_index
        BEGIN
            DELETE FROM workflow_attributes WHERE workflow_id = new.workflow_id;
        END;
        """;

    private const string Schema = """
        CREATE TABLE workflow_index
        (
            workflow_id     TEXT    NOT NULL PRIMARY KEY,
            workflow_type   TEXT    NOT NULL,
            status          TEXT    NOT NULL,
            created_at      INTEGER NOT NULL,
            updated_at      INTEGER NOT NULL,
            ended_at        INTEGER     NULL,
            error           TEXT        NULL,
            step_count      INTEGER NOT NULL DEFAULT 0,
            completed_steps INTEGER NOT NULL DEFAULT 0,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            wake_at         INTEGER     NULL
        ) WITHOUT ROWID;
        CREATE INDEX workflow_index_created_idx ON workflow_index (created_at, workflow_id);
        CREATE INDEX workflow_index_status_idx ON workflow_index (status, created_at, workflow_id);
        CREATE INDEX workflow_index_type_idx ON workflow_index (workflow_type, created_at, workflow_id);
        CREATE INDEX workflow_index_wake_at_idx ON workflow_index (wake_at) WHERE wake_at IS NOT NULL;
        """;

    // The statements the journal's writer runs for a change (WorkflowIndexChange), bound by position. The status
    // statement runs only when the change sets a status that is not implied (a step's start leaves "running" as it
    // is: one UPDATE per step), and changes the row only when something differs, so that the status index is rewritten
    // only when the status changes.
    public const string InsertSql = """
        INSERT INTO workflow_index (workflow_id, workflow_type, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
        ON CONFLICT (workflow_id) DO UPDATE SET workflow_type = excluded.workflow_type, status = excluded.status,
            created_at = excluded.created_at, updated_at = excluded.updated_at, ended_at = NULL, error = NULL,
            step_count = 0, completed_steps = 0, failed_attempts = 0, wake_at = NULL
        """;

    public const string CountsSql = """
        UPDATE workflow_index SET updated_at = ?2, step_count = step_count + ?3, completed_steps = completed_steps + ?4,
            failed_attempts = failed_attempts + ?5
        WHERE workflow_id = ?1
        """;

    public const string StatusSql = """
        UPDATE workflow_index SET status = ?2, ended_at = ?3, error = CASE WHEN ?4 THEN ?5 ELSE error END
        WHERE workflow_id = ?1 AND (status IS NOT ?2 OR ended_at IS NOT ?3 OR (?4 AND error IS NOT ?5))
        """;

    public const string WakeAtSql = "UPDATE workflow_index SET wake_at = ?2 WHERE workflow_id = ?1 AND wake_at IS NOT ?2";

    /// <summary>Sets one attribute of a workflow (id, name, kind, text, number).</summary>
    public const string SetAttributeSql = """
        INSERT INTO workflow_attributes (workflow_id, name, kind, text_value, num_value) VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (workflow_id, name) DO UPDATE SET kind = excluded.kind, text_value = excluded.text_value, num_value = excluded.num_value
        """;

    /// <summary>Removes one attribute of a workflow (id, name).</summary>
    public const string RemoveAttributeSql = "DELETE FROM workflow_attributes WHERE workflow_id = ?1 AND name = ?2";

    /// <summary>Removes every attribute of a workflow (id): it is purged.</summary>
    public const string RemoveAttributesSql = "DELETE FROM workflow_attributes WHERE workflow_id = ?1";

    /// <summary>The running workflows, with when each is due (null: resume it now).</summary>
    public static List<(string WorkflowId, DateTimeOffset? WakeAt)> Running(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Sqlite.Running(command, partition: null);
        return WorkflowIndexQueries.List(command, WorkflowIndexQueries.ReadRunning);
    }

    public static long Ticks(DateTimeOffset time) => time.UtcTicks;

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>Whether the database has the index: its rows and its attributes.</summary>
    public static bool Exists(SqliteConnection connection) =>
        SqliteStatements.TableExists(connection, null, TableName) && SqliteStatements.TableExists(connection, null, AttributesTableName);

    /// <summary>
    /// Creates the index (its rows, its attributes, or both) and fills what it created from the journal when the
    /// database lacks it. Reads first: a database that has it takes no write lock here. Returns whether it built any.
    /// </summary>
    public static bool EnsureBuilt(SqliteConnection connection)
    {
        if (Exists(connection))
            return false;
        // BEGIN IMMEDIATE: no event is written while the journal is read and the index filled.
        using var transaction = connection.BeginTransaction(deferred: false);
        // Rows built anew take the attributes anew too (the trigger on the rows went with them).
        var rows = !SqliteStatements.TableExists(connection, transaction, TableName);
        var attributes = rows || !SqliteStatements.TableExists(connection, transaction, AttributesTableName);
        if (!rows && !attributes)
            return false;
        if (rows)
            SqliteStatements.Execute(connection, transaction, $"DROP TABLE IF EXISTS {AttributesTableName};" + Schema);
        if (attributes)
            SqliteStatements.Execute(connection, transaction, AttributesSchema);
        if (SqliteStatements.TableExists(connection, transaction, "journal"))
            Fill(connection, transaction, rows, attributes);
        transaction.Commit();
        return true;
    }

    /// <summary>Drops the index and builds it again from the journal, in one transaction.</summary>
    public static void Rebuild(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        SqliteStatements.Execute(connection, transaction, $"DROP TABLE IF EXISTS {TableName}; DROP TABLE IF EXISTS {AttributesTableName}");
        SqliteStatements.Execute(connection, transaction, Schema + AttributesSchema);
        Fill(connection, transaction, rows: true, attributes: true);
        transaction.Commit();
    }

    /// <summary>
    /// Folds every workflow's events (in sequence order, one workflow after another) and inserts its row and its
    /// attributes, or only one of the two.
    /// </summary>
    private static void Fill(SqliteConnection connection, SqliteTransaction transaction, bool rows, bool attributes)
    {
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = """
            SELECT persistence_id, message, manifest FROM journal
            WHERE persistence_id LIKE 'workflow-%' AND deleted = 0 AND identifier = $id
            ORDER BY persistence_id, sequence_number
            """;
        read.Parameters.AddWithValue("$id", JournalEventSerializer.Id);
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO workflow_index ({WorkflowIndexQueries.Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        var parameters = Enumerable.Range(1, 11).Select(i => insert.Parameters.Add(new SqliteParameter { ParameterName = $"${i}" })).ToArray();

        using var insertAttribute = connection.CreateCommand();
        insertAttribute.Transaction = transaction;
        insertAttribute.CommandText = "INSERT INTO workflow_attributes (workflow_id, name, kind, text_value, num_value) VALUES ($1, $2, $3, $4, $5)";
        var attributeParameters = Enumerable.Range(1, 5).Select(i => insertAttribute.Parameters.Add(new SqliteParameter { ParameterName = $"${i}" })).ToArray();
        var set = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);

        void Insert(WorkflowIndexRow? row)
        {
            if (row is null)
                return;
            if (attributes)
            {
                foreach (var (name, value) in set)
                {
                    object?[] columns = [row.WorkflowId, name, value.KindText, value.InText ? value.Text : null, value.InText ? null : value.Number];
                    for (var i = 0; i < columns.Length; i++)
                        attributeParameters[i].Value = columns[i] ?? DBNull.Value;
                    insertAttribute.ExecuteNonQuery();
                }
            }
            if (!rows)
                return;
            object?[] values =
            [
                row.WorkflowId, row.WorkflowType, row.Status, Ticks(row.CreatedAt), Ticks(row.UpdatedAt),
                row.EndedAt is { } ended ? Ticks(ended) : null, row.Error, row.StepCount, row.CompletedSteps, row.FailedAttempts,
                row.WakeAt is { } wake ? Ticks(wake) : null,
            ];
            for (var i = 0; i < values.Length; i++)
                parameters[i].Value = values[i] ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }

        string? current = null;
        WorkflowIndexRow? row = null;
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            var persistenceId = reader.GetString(0);
            if (!persistenceId.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
                continue;
            if (persistenceId != current)
            {
                Insert(row);
                current = persistenceId;
                row = null;
                set.Clear();
            }
            var e = JournalEventSerializer.Read((byte[])reader.GetValue(1), reader.GetString(2));
            row = WorkflowIndex.Apply(row, persistenceId[WorkflowActor.PersistenceIdPrefix.Length..], e);
            WorkflowIndex.ApplyAttributes(set, e);
        }
        Insert(row);
    }

    /// <summary>One page, newest first (by creation, then id); <paramref name="more"/> tells whether rows follow it.</summary>
    public static List<WorkflowIndexRow> Page(
        SqliteConnection connection, WorkflowQuery query, (long CreatedTicks, string WorkflowId)? after, out bool more)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Sqlite.Page(command, query, after);
        (var rows, more) = WorkflowIndexQueries.Trim(WorkflowIndexQueries.List(command, WorkflowIndexQueries.Read), query.Limit);
        return rows;
    }

    /// <summary>How many workflows have each status.</summary>
    public static Dictionary<string, long> CountByStatus(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.CountByStatus(command);
        return WorkflowIndexQueries.Counts(WorkflowIndexQueries.List(command, r => (r.GetString(0), r.GetInt64(1))));
    }

    /// <summary>Every workflow id, in order.</summary>
    public static List<string> Ids(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Ids(command);
        return WorkflowIndexQueries.List(command, r => r.GetString(0));
    }

    /// <summary>One workflow's row, read by its primary key; null for an unknown id.</summary>
    public static WorkflowIndexRow? Row(SqliteConnection connection, string workflowId)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Sqlite.Row(command, workflowId);
        return WorkflowIndexQueries.List(command, WorkflowIndexQueries.Read).SingleOrDefault();
    }

    /// <summary>Every row, ordered by id (tests compare it with a rebuild).</summary>
    public static List<WorkflowIndexRow> All(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.All(command);
        return WorkflowIndexQueries.List(command, WorkflowIndexQueries.Read);
    }

    /// <summary>Every attribute row, ordered by workflow and name (tests compare them with a rebuild).</summary>
    public static List<(string WorkflowId, string Name, string Kind, string? Text, double? Number)> AllAttributes(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT workflow_id, name, kind, text_value, num_value FROM workflow_attributes ORDER BY workflow_id, name";
        return WorkflowIndexQueries.List(command, r => (r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? (double?)null : r.GetDouble(4)));
    }
}
