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

    /// <summary>The running workflows, with when each is due (null: resume it now).</summary>
    public static List<(string WorkflowId, DateTimeOffset? WakeAt)> Running(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Sqlite.Running(command, partition: null);
        return WorkflowIndexQueries.List(command, WorkflowIndexQueries.ReadRunning);
    }

    public static long Ticks(DateTimeOffset time) => time.UtcTicks;

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    public static bool Exists(SqliteConnection connection) => TableExists(connection, null, TableName);

    /// <summary>
    /// Creates the index and fills it from the journal when the database has none. Reads first: a database that has
    /// it takes no write lock here. Returns whether it built it.
    /// </summary>
    public static bool EnsureBuilt(SqliteConnection connection)
    {
        if (Exists(connection))
            return false;
        // BEGIN IMMEDIATE: no event is written while the journal is read and the index filled.
        using var transaction = connection.BeginTransaction(deferred: false);
        if (TableExists(connection, transaction, TableName))
            return false;
        Execute(connection, transaction, Schema);
        if (TableExists(connection, transaction, "journal"))
            Fill(connection, transaction);
        transaction.Commit();
        return true;
    }

    /// <summary>Drops the index and builds it again from the journal, in one transaction.</summary>
    public static void Rebuild(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, $"DROP TABLE IF EXISTS {TableName}");
        Execute(connection, transaction, Schema);
        Fill(connection, transaction);
        transaction.Commit();
    }

    /// <summary>Folds every workflow's events (in sequence order, one workflow after another) and inserts its row.</summary>
    private static void Fill(SqliteConnection connection, SqliteTransaction transaction)
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

        void Insert(WorkflowIndexRow? row)
        {
            if (row is null)
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
            }
            var e = JournalEventSerializer.Read((byte[])reader.GetValue(1), reader.GetString(2));
            row = WorkflowIndex.Apply(row, persistenceId[WorkflowActor.PersistenceIdPrefix.Length..], e);
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

    private static bool TableExists(SqliteConnection connection, SqliteTransaction? transaction, string name)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is not null;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
