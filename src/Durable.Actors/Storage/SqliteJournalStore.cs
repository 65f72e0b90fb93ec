using Durable.Actors.Advanced;
using Durable.Actors.Journal;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Durable.Actors.Storage;

/// <summary>
/// SQLite's part of the <see cref="JournalWriter"/>: the connection and its statements, prepared once and bound by
/// position through SQLite's own API (the writer runs them thousands of times a second, and Microsoft.Data.Sqlite's
/// command path costs more than the inserts). A transaction is BEGIN IMMEDIATE, the rows of each write, COMMIT; an
/// error raised by one write's rows that belongs to that write (a constraint, a value over SQLite's size limit) refuses
/// that write alone. SQLITE_FULL names the database file.
/// </summary>
internal sealed class SqliteJournalStore(string connectionString, string synchronous, TimeSpan busyTimeout, StorageHooks? hooks = null) : IJournalStore
{
    private readonly string _pragmas = SqliteDatabase.ConnectionPragmas(synchronous, busyTimeout);
    private readonly string _databasePath = new SqliteConnectionStringBuilder(connectionString).DataSource;
    private Statements? _statements;

    /// <summary>
    /// The writer of a SQLite journal. Its stop waits up to the busy timeout and 5 s: a commit under way ends within the
    /// busy timeout.
    /// </summary>
    public static JournalWriter Writer(string connectionString, string synchronous, TimeSpan busyTimeout, StorageHooks? hooks = null, IJournalWriteGate? gate = null) =>
        new(new SqliteJournalStore(connectionString, synchronous, busyTimeout, hooks), busyTimeout + TimeSpan.FromSeconds(5), gate);

    public int MaxRowsPerTransaction => 4000;

    public void Commit(IReadOnlyList<IReadOnlyList<JournalRow>> writes)
    {
        var statements = _statements ??= Statements.Open(connectionString, _pragmas, _databasePath);
        hooks?.BeforeTransaction?.Invoke(statements.Connection);
        statements.Begin();
        var failing = -1;
        try
        {
            for (var i = 0; i < writes.Count; i++)
            {
                failing = i;
                statements.Insert(writes[i]);
            }
            failing = -1;
            statements.Commit();
        }
        catch (SqliteException e) when (failing >= 0 && FailsOnItsOwn(e))
        {
            statements.Rollback();
            throw new JournalWriteRefusedException([failing], e);
        }
        catch
        {
            statements.Rollback();
            throw;
        }
    }

    public IReadOnlySet<string> Purge(IReadOnlyList<PurgeTarget> targets)
    {
        var statements = _statements ??= Statements.Open(connectionString, _pragmas, _databasePath);
        statements.Begin();
        try
        {
            var purged = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (workflowId, onlyIfEnded) in targets)
            {
                if (purged.Contains(workflowId) || onlyIfEnded && !statements.HasEnded(workflowId))
                    continue;
                statements.Purge(Runtime.WorkflowActor.PersistenceIdPrefix + workflowId, workflowId);
                purged.Add(workflowId);
            }
            statements.Commit();
            return purged;
        }
        catch
        {
            statements.Rollback();
            throw;
        }
    }

    public void Reset()
    {
        _statements?.Dispose();
        _statements = null;
    }

    public void Dispose() => Reset();

    /// <summary>
    /// Whether an error raised by one write's inserts belongs to that write (a constraint, a value too big or of the
    /// wrong type) rather than to the database or the transaction (I/O, full, busy, locked, out of memory, damaged, read
    /// only, interrupted), which would fail any write.
    /// </summary>
    private static bool FailsOnItsOwn(SqliteException e) => (e.SqliteErrorCode & 0xFF) is not (
        raw.SQLITE_BUSY or raw.SQLITE_LOCKED or raw.SQLITE_NOMEM or raw.SQLITE_READONLY or raw.SQLITE_INTERRUPT
        or raw.SQLITE_IOERR or raw.SQLITE_CORRUPT or raw.SQLITE_FULL or raw.SQLITE_CANTOPEN or raw.SQLITE_PROTOCOL
        or raw.SQLITE_NOTADB or raw.SQLITE_PERM or raw.SQLITE_ABORT or raw.SQLITE_MISUSE);

    /// <summary>The connection and its prepared statements.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly string _databasePath;
        private readonly sqlite3_stmt _insert;
        private readonly sqlite3_stmt _insertReturningOrdering;
        private readonly sqlite3_stmt _insertTag;
        private readonly sqlite3_stmt _indexInsert;
        private readonly sqlite3_stmt _indexCounts;
        private readonly sqlite3_stmt _indexStatus;
        private readonly sqlite3_stmt _indexWakeAt;
        private sqlite3_stmt? _setAttribute;
        private sqlite3_stmt? _removeAttribute;
        private readonly sqlite3_stmt _begin;
        private readonly sqlite3_stmt _commit;
        private readonly sqlite3_stmt _rollback;
        private readonly List<sqlite3_stmt> _all = [];
        private sqlite3_stmt[]? _purge;
        private sqlite3_stmt? _status;

        private Statements(SqliteConnection connection, string databasePath)
        {
            Connection = connection;
            _db = connection.Handle!;
            _databasePath = databasePath;
            const string insert = """
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
                VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7)
                """;
            _insert = Prepare(insert);
            _insertReturningOrdering = Prepare(insert + " RETURNING ordering");
            _insertTag = Prepare("INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES (?1, ?2, ?3, ?4)");
            _indexInsert = Prepare(WorkflowIndexStore.InsertSql);
            _indexCounts = Prepare(WorkflowIndexStore.CountsSql);
            _indexStatus = Prepare(WorkflowIndexStore.StatusSql);
            _indexWakeAt = Prepare(WorkflowIndexStore.WakeAtSql);
            _begin = Prepare("BEGIN IMMEDIATE");
            _commit = Prepare("COMMIT");
            _rollback = Prepare("ROLLBACK");
        }

        // Not pooled: after a failure the connection is closed for good, never handed out again mid-transaction.
        public static Statements Open(string connectionString, string pragmas, string databasePath)
        {
            var connection = SqliteDatabase.Open(connectionString, pragmas, pooling: false);
            try
            {
                // Normally built when the host started (SqliteDatabase.Prepare); the statements need the table.
                WorkflowIndexStore.EnsureBuilt(connection);
                return new Statements(connection, databasePath);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public SqliteConnection Connection { get; }

        /// <summary>BEGIN IMMEDIATE: takes the write lock now, waiting up to the busy timeout for it.</summary>
        public void Begin() => Run(_begin);

        public void Commit() => Run(_commit);

        public void Rollback()
        {
            // Fails harmlessly when SQLite already rolled the transaction back (on an I/O error, for instance).
            raw.sqlite3_step(_rollback);
            raw.sqlite3_reset(_rollback);
        }

        /// <summary>Whether the workflow's index row says it ended (completed, failed, cancelled); false when it has none.</summary>
        public bool HasEnded(string workflowId)
        {
            _status ??= Prepare("SELECT status FROM workflow_index WHERE workflow_id = ?1");
            Bind(_status, raw.sqlite3_bind_text(_status, 1, workflowId));
            var rc = raw.sqlite3_step(_status);
            if (rc is not (raw.SQLITE_ROW or raw.SQLITE_DONE))
                Fail(_status, rc);
            var status = rc == raw.SQLITE_ROW ? raw.sqlite3_column_text(_status, 0).utf8_to_string() : null;
            raw.sqlite3_reset(_status);
            return status is not null && WorkflowIndex.TryParseStatus(status, out var parsed)
                && parsed is WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled;
        }

        /// <summary>Deletes a workflow's events, their tags and its index row in the open transaction.</summary>
        public void Purge(string persistenceId, string workflowId)
        {
            _purge ??=
            [
                Prepare("DELETE FROM tags WHERE persistence_id = ?1"),
                Prepare("DELETE FROM journal WHERE persistence_id = ?1"),
                Prepare("DELETE FROM workflow_index WHERE workflow_id = ?1"),
                Prepare(WorkflowIndexStore.RemoveAttributesSql),
            ];
            for (var i = 0; i < _purge.Length; i++)
            {
                Bind(_purge[i], raw.sqlite3_bind_text(_purge[i], 1, i < 2 ? persistenceId : workflowId));
                Run(_purge[i]);
            }
        }

        /// <summary>Inserts one write's rows in the open transaction.</summary>
        public void Insert(IReadOnlyList<JournalRow> rows)
        {
            foreach (var row in rows)
            {
                var tagged = row.Tags.Length > 0;
                var insert = tagged ? _insertReturningOrdering : _insert;
                Bind(insert, raw.sqlite3_bind_int64(insert, 1, row.Created));
                Bind(insert, raw.sqlite3_bind_text(insert, 2, row.PersistenceId));
                Bind(insert, raw.sqlite3_bind_int64(insert, 3, row.SequenceNr));
                Bind(insert, raw.sqlite3_bind_blob(insert, 4, row.Message));
                Bind(insert, raw.sqlite3_bind_text(insert, 5, row.Manifest));
                Bind(insert, raw.sqlite3_bind_int(insert, 6, row.Identifier));
                Bind(insert, raw.sqlite3_bind_text(insert, 7, row.WriterUuid));
                if (!tagged)
                {
                    Run(insert);
                }
                else
                {
                    var rc = raw.sqlite3_step(insert);
                    if (rc != raw.SQLITE_ROW)
                        Fail(insert, rc);
                    var ordering = raw.sqlite3_column_int64(insert, 0);
                    Run(insert);
                    foreach (var tag in row.Tags)
                    {
                        Bind(_insertTag, raw.sqlite3_bind_int64(_insertTag, 1, ordering));
                        Bind(_insertTag, raw.sqlite3_bind_text(_insertTag, 2, tag));
                        Bind(_insertTag, raw.sqlite3_bind_int64(_insertTag, 3, row.SequenceNr));
                        Bind(_insertTag, raw.sqlite3_bind_text(_insertTag, 4, row.PersistenceId));
                        Run(_insertTag);
                    }
                }
                if (row.Index is { } change)
                    Apply(change);
            }
        }

        /// <summary>Applies an event's change to its workflow's index row (see <see cref="WorkflowIndexStore"/>).</summary>
        private void Apply(WorkflowIndexChange change)
        {
            if (change.Started is { } started)
            {
                Bind(_indexInsert, raw.sqlite3_bind_text(_indexInsert, 1, change.WorkflowId));
                Bind(_indexInsert, raw.sqlite3_bind_text(_indexInsert, 2, started.WorkflowType));
                Bind(_indexInsert, raw.sqlite3_bind_text(_indexInsert, 3, WorkflowIndex.StatusText(WorkflowRunStatus.Running)));
                Bind(_indexInsert, raw.sqlite3_bind_int64(_indexInsert, 4, WorkflowIndexStore.Ticks(started.At)));
                Run(_indexInsert);
                return;
            }
            if (change.Attributes is { } attributes)
                Apply(change.WorkflowId, attributes);
            Bind(_indexCounts, raw.sqlite3_bind_text(_indexCounts, 1, change.WorkflowId));
            Bind(_indexCounts, raw.sqlite3_bind_int64(_indexCounts, 2, WorkflowIndexStore.Ticks(change.At)));
            Bind(_indexCounts, raw.sqlite3_bind_int(_indexCounts, 3, change.NewSteps));
            Bind(_indexCounts, raw.sqlite3_bind_int(_indexCounts, 4, change.CompletedSteps));
            Bind(_indexCounts, raw.sqlite3_bind_int(_indexCounts, 5, change.FailedAttempts));
            Run(_indexCounts);
            if (change.SetsWakeAt)
            {
                Bind(_indexWakeAt, raw.sqlite3_bind_text(_indexWakeAt, 1, change.WorkflowId));
                Bind(_indexWakeAt, change.WakeAt is { } wake
                    ? raw.sqlite3_bind_int64(_indexWakeAt, 2, WorkflowIndexStore.Ticks(wake))
                    : raw.sqlite3_bind_null(_indexWakeAt, 2));
                Run(_indexWakeAt);
            }
            // One UPDATE per step: a step's start leaves the status as it is (running, see StatusImplied).
            if (change.Status is null || change.StatusImplied)
                return;
            Bind(_indexStatus, raw.sqlite3_bind_text(_indexStatus, 1, change.WorkflowId));
            Bind(_indexStatus, raw.sqlite3_bind_text(_indexStatus, 2, change.Status));
            Bind(_indexStatus, change.EndedAt is { } ended
                ? raw.sqlite3_bind_int64(_indexStatus, 3, WorkflowIndexStore.Ticks(ended))
                : raw.sqlite3_bind_null(_indexStatus, 3));
            Bind(_indexStatus, raw.sqlite3_bind_int(_indexStatus, 4, change.SetsError ? 1 : 0));
            Bind(_indexStatus, change.Error is { } error
                ? raw.sqlite3_bind_text(_indexStatus, 5, error)
                : raw.sqlite3_bind_null(_indexStatus, 5));
            Run(_indexStatus);
        }

        /// <summary>Sets and removes attributes of a workflow, in order (the last value of a name wins).</summary>
        private void Apply(string workflowId, IReadOnlyList<KeyValuePair<string, AttributeValue?>> attributes)
        {
            foreach (var (name, value) in attributes)
            {
                if (value is not { } v)
                {
                    _removeAttribute ??= Prepare(WorkflowIndexStore.RemoveAttributeSql);
                    Bind(_removeAttribute, raw.sqlite3_bind_text(_removeAttribute, 1, workflowId));
                    Bind(_removeAttribute, raw.sqlite3_bind_text(_removeAttribute, 2, name));
                    Run(_removeAttribute);
                    continue;
                }
                var set = _setAttribute ??= Prepare(WorkflowIndexStore.SetAttributeSql);
                Bind(set, raw.sqlite3_bind_text(set, 1, workflowId));
                Bind(set, raw.sqlite3_bind_text(set, 2, name));
                Bind(set, raw.sqlite3_bind_text(set, 3, v.KindText));
                Bind(set, v.InText ? raw.sqlite3_bind_text(set, 4, v.Text) : raw.sqlite3_bind_null(set, 4));
                Bind(set, v.InText ? raw.sqlite3_bind_null(set, 5) : raw.sqlite3_bind_double(set, 5, v.Number));
                Run(set);
            }
        }

        /// <summary>Steps <paramref name="statement"/> to its end and resets it for the next use.</summary>
        private void Run(sqlite3_stmt statement)
        {
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_DONE)
                Fail(statement, rc);
            raw.sqlite3_reset(statement);
        }

        /// <summary>A value SQLite refused to bind (over its size limit) would go in as NULL: fail instead.</summary>
        private void Bind(sqlite3_stmt statement, int rc)
        {
            if (rc != raw.SQLITE_OK)
                Fail(statement, rc);
        }

        private void Fail(sqlite3_stmt statement, int rc)
        {
            var message = raw.sqlite3_errmsg(_db).utf8_to_string();
            var extended = raw.sqlite3_extended_errcode(_db);
            raw.sqlite3_reset(statement);
            // The error a user sees on a full disk: it names the file, whatever part of the engine reports it.
            if ((rc & 0xFF) == raw.SQLITE_FULL)
                throw new SqliteException($"database or disk is full: {_databasePath}", rc, extended);
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc, extended);
        }

        private sqlite3_stmt Prepare(string sql)
        {
            var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
            if (rc != raw.SQLITE_OK)
                throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc);
            _all.Add(statement);
            return statement;
        }

        public void Dispose()
        {
            foreach (var statement in _all)
                statement.Dispose();
            Connection.Dispose();
        }
    }
}
