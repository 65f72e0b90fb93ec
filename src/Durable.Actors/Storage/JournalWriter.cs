using Microsoft.Data.Sqlite;
using Durable.Actors.Journal;
using SQLitePCL;

namespace Durable.Actors.Storage;

/// <summary>
/// The single writer of journal rows: one thread, one connection, prepared statements. Writes queue up while a
/// commit is under way and the next transaction takes all of them (group commit), so many workflows share one
/// fsync and one workflow alone pays one commit per write. Each queued write is all or nothing on its own: when one
/// fails on its own (a sequence number another process already wrote, a row over SQLite's size limit), the batch is
/// rolled back and committed again without it, so that only that write fails. An error of the database itself (disk
/// full, I/O, busy) fails every write of the transaction; SQLITE_FULL names the database file.
/// </summary>
internal sealed class JournalWriter : IAsyncDisposable
{
    /// <summary>
    /// One journal row in Akka.Persistence.Sql's layout, with the tags that go to its tag table and the change its
    /// event makes to the workflow index (applied in the same transaction).
    /// </summary>
    public sealed record Row(
        string PersistenceId, long SequenceNr, long Created, byte[] Message, string Manifest, int Identifier, string WriterUuid, string[] Tags,
        WorkflowIndexChange? Index = null);

    private sealed class Write(IReadOnlyList<Row> rows)
    {
        public IReadOnlyList<Row> Rows { get; } = rows;
        // Completed from a pool thread, one per batch (see Complete): continuations run there, never on the writer.
        public TaskCompletionSource Done { get; } = new();
    }

    // Bounds one transaction, so that a burst of writes is committed in a few steps rather than one long one.
    private const int MaxRowsPerTransaction = 4000;

    /// <summary>See <see cref="StorageHooks.Gate"/>.</summary>
    internal interface IWriteGate
    {
        /// <summary>On the writer thread, before the write's transaction: false fails the write, unwritten.</summary>
        bool Admit(IReadOnlyList<Row> rows);

        /// <summary>On the writer thread, once an admitted write is committed (<paramref name="committed"/>) or failed.</summary>
        void Ended(IReadOnlyList<Row> rows, bool committed);
    }

    private readonly string _connectionString;
    private readonly string _databasePath;
    private readonly string _pragmas;
    private readonly TimeSpan _busyTimeout;
    private readonly object _gate = new();
    private readonly Queue<Write> _queue = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StorageHooks? _hooks;
    private bool _stopping;
    private Statements? _statements;

    public JournalWriter(string connectionString, string synchronous, TimeSpan busyTimeout, StorageHooks? hooks = null)
    {
        _hooks = hooks;
        _connectionString = connectionString;
        _databasePath = new SqliteConnectionStringBuilder(connectionString).DataSource;
        _busyTimeout = busyTimeout;
        _pragmas = SqliteDatabase.ConnectionPragmas(synchronous, busyTimeout);
        new Thread(Run) { IsBackground = true, Name = "durable-actors-journal-writer" }.Start();
    }

    /// <summary>Writes <paramref name="rows"/> atomically; the task ends when they are durable or failed.</summary>
    public Task WriteAsync(IReadOnlyList<Row> rows)
    {
        var write = new Write(rows);
        lock (_gate)
        {
            if (_stopping)
                return Task.FromException(new InvalidOperationException("The journal is stopping; nothing was written."));
            _queue.Enqueue(write);
            Monitor.Pulse(_gate);
        }
        return write.Done.Task;
    }

    /// <summary>
    /// Refuses further writes and returns at once; the task ends when what was queued is committed (or failed) and the
    /// connection closed, or after the busy timeout and 5 s (a commit under way ends within the busy timeout), whichever
    /// comes first. It never fails. The caller (the journal's PostStop) must not wait for it: see <see cref="JournalStops"/>.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        return EndedAsync(_ended.Task, _busyTimeout + TimeSpan.FromSeconds(5));
    }

    /// <summary>Ends when <paramref name="ended"/> does or after <paramref name="bound"/>; never fails.</summary>
    internal static async Task EndedAsync(Task ended, TimeSpan bound)
    {
        try
        {
            await ended.WaitAsync(bound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still committing: what it commits later is durable; what it never commits was never acknowledged.
        }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private void Run()
    {
        try
        {
            Drain();
        }
        finally
        {
            _statements?.Dispose();
            _ended.TrySetResult();
        }
    }

    private void Drain()
    {
        var batch = new List<Write>();
        while (Take(batch))
        {
            if (_hooks?.Gate is { } gate)
                Admit(gate, batch);
            if (batch.Count > 0)
                Commit(batch);
            batch.Clear();
        }
    }

    /// <summary>
    /// Waits for writes and moves the next transaction's into <paramref name="batch"/>; false once stopping with none.
    /// </summary>
    /// <remarks>
    /// A method of its own, so that no local of the writer's loop keeps the last write (its rows, whole results) while
    /// the writer waits for the next one, maybe long after the workflows that wrote it stopped.
    /// </remarks>
    private bool Take(List<Write> batch)
    {
        lock (_gate)
        {
            while (_queue.Count == 0 && !_stopping)
                Monitor.Wait(_gate);
            if (_queue.Count == 0)
                return false;
            var rows = 0;
            while (_queue.Count > 0 && (rows == 0 || rows + _queue.Peek().Rows.Count <= MaxRowsPerTransaction))
            {
                var write = _queue.Dequeue();
                rows += write.Rows.Count;
                batch.Add(write);
            }
            return true;
        }
    }

    private static void Admit(IWriteGate gate, List<Write> batch)
    {
        var refused = batch.Where(w => !gate.Admit(w.Rows)).ToArray();
        if (refused.Length == 0)
            return;
        batch.RemoveAll(refused.Contains);
        CompleteOnPool(refused, new InvalidOperationException("The host crashed (test kit): nothing of this write reached the database."));
    }

    private void Commit(List<Write> batch)
    {
        while (true)
        {
            var failing = -1;
            var started = 0L;
            try
            {
                var statements = _statements ??= Statements.Open(_connectionString, _pragmas, _databasePath);
                _hooks?.BeforeTransaction?.Invoke(statements.Connection);
                started = System.Diagnostics.Stopwatch.GetTimestamp();
                statements.Begin();
                try
                {
                    for (var i = 0; i < batch.Count; i++)
                    {
                        failing = i;
                        statements.Insert(batch[i].Rows);
                    }
                    failing = -1;
                    statements.Commit();
                }
                catch
                {
                    statements.Rollback();
                    throw;
                }
            }
            catch (SqliteException e) when (failing >= 0 && FailsOnItsOwn(e))
            {
                // This write would fail in any transaction (its sequence number is taken, a row too big): it fails
                // alone, and the rest of the batch, rolled back with it, is committed again without it.
                Complete([batch[failing]], e);
                batch.RemoveAt(failing);
                if (batch.Count == 0)
                    return;
                continue;
            }
            catch (Exception e)
            {
                // Nothing of this transaction is durable: every write in it fails. A fresh connection for the next one.
                _statements?.Dispose();
                _statements = null;
                Complete([.. batch], e);
                return;
            }
            Observability.Telemetry.Committed(started, batch.Count);
            Complete([.. batch], null);
            return;
        }
    }

    /// <summary>
    /// Whether an error raised by one write's inserts belongs to that write (a constraint, a value too big or of the
    /// wrong type) rather than to the database or the transaction (I/O, full, busy, locked, out of memory, damaged, read
    /// only, interrupted), which would fail any write.
    /// </summary>
    private static bool FailsOnItsOwn(SqliteException e) => (e.SqliteErrorCode & 0xFF) is not (
        raw.SQLITE_BUSY or raw.SQLITE_LOCKED or raw.SQLITE_NOMEM or raw.SQLITE_READONLY or raw.SQLITE_INTERRUPT
        or raw.SQLITE_IOERR or raw.SQLITE_CORRUPT or raw.SQLITE_FULL or raw.SQLITE_CANTOPEN or raw.SQLITE_PROTOCOL
        or raw.SQLITE_NOTADB or raw.SQLITE_PERM or raw.SQLITE_ABORT or raw.SQLITE_MISUSE);

    /// <summary>
    /// Ends the writes' tasks on one pool thread per batch: whatever awaits a write never holds up the next commit,
    /// and a batch of hundreds of writes costs one hop through the pool, not one each.
    /// </summary>
    private void Complete(Write[] writes, Exception? error)
    {
        if (_hooks?.Gate is { } gate)
        {
            foreach (var write in writes)
                gate.Ended(write.Rows, error is null);
        }
        CompleteOnPool(writes, error);
    }

    private static void CompleteOnPool(Write[] writes, Exception? error) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            foreach (var write in state.Writes)
            {
                if (state.Error is null)
                    write.Done.TrySetResult();
                else
                    write.Done.TrySetException(state.Error);
            }
        }, (Writes: writes, Error: error), preferLocal: false);

    /// <summary>
    /// The connection and its statements, prepared once and bound by position through SQLite's own API: the writer
    /// runs them thousands of times a second, and Microsoft.Data.Sqlite's command path costs more than the inserts.
    /// </summary>
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
        private readonly sqlite3_stmt _begin;
        private readonly sqlite3_stmt _commit;
        private readonly sqlite3_stmt _rollback;
        private readonly List<sqlite3_stmt> _all = [];

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

        /// <summary>Inserts one write's rows in the open transaction.</summary>
        public void Insert(IReadOnlyList<JournalWriter.Row> rows)
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
