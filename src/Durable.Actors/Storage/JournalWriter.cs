using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Durable.Actors.Storage;

/// <summary>
/// The single writer of journal rows: one thread, one connection, prepared statements. Writes queue up while a
/// commit is under way and the next transaction takes all of them (group commit), so many workflows share one
/// fsync and one workflow alone pays one commit per write. Each queued write is all or nothing on its own: when one
/// fails (a sequence number another process already wrote), the batch is rolled back and its writes are committed
/// one by one, so that only that write fails.
/// </summary>
internal sealed class JournalWriter : IDisposable
{
    /// <summary>One journal row in Akka.Persistence.Sql's layout, with the tags that go to its tag table.</summary>
    public sealed record Row(
        string PersistenceId, long SequenceNr, long Created, byte[] Message, string Manifest, int Identifier, string WriterUuid, string[] Tags);

    private sealed class Write(IReadOnlyList<Row> rows)
    {
        public IReadOnlyList<Row> Rows { get; } = rows;
        // Completed from a pool thread, one per batch (see Complete): continuations run there, never on the writer.
        public TaskCompletionSource Done { get; } = new();
    }

    // Bounds one transaction, so that a burst of writes is committed in a few steps rather than one long one.
    private const int MaxRowsPerTransaction = 4000;

    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly TimeSpan _busyTimeout;
    private readonly object _gate = new();
    private readonly Queue<Write> _queue = new();
    private readonly Thread _thread;
    private bool _stopping;
    private Statements? _statements;

    public JournalWriter(string connectionString, string synchronous, TimeSpan busyTimeout)
    {
        _connectionString = connectionString;
        _busyTimeout = busyTimeout;
        _pragmas = SqliteDatabase.ConnectionPragmas(synchronous, busyTimeout);
        _thread = new Thread(Run) { IsBackground = true, Name = "durable-actors-journal-writer" };
        _thread.Start();
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

    /// <summary>Commits what is queued, then closes the connection.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        // A commit under way ends within the busy timeout; never wait longer than that for it.
        _thread.Join(_busyTimeout + TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        var batch = new List<Write>();
        while (true)
        {
            lock (_gate)
            {
                while (_queue.Count == 0 && !_stopping)
                    Monitor.Wait(_gate);
                if (_queue.Count == 0)
                    break;
                var rows = 0;
                while (_queue.Count > 0 && (rows == 0 || rows + _queue.Peek().Rows.Count <= MaxRowsPerTransaction))
                {
                    var write = _queue.Dequeue();
                    rows += write.Rows.Count;
                    batch.Add(write);
                }
            }
            Commit(batch);
            batch.Clear();
        }
        _statements?.Dispose();
    }

    private void Commit(List<Write> batch)
    {
        try
        {
            var statements = _statements ??= Statements.Open(_connectionString, _pragmas);
            statements.Begin();
            try
            {
                foreach (var write in batch)
                    statements.Insert(write.Rows);
                statements.Commit();
            }
            catch
            {
                statements.Rollback();
                throw;
            }
        }
        catch (SqliteException e) when (e.SqliteErrorCode == raw.SQLITE_CONSTRAINT && batch.Count > 1)
        {
            // A write whose sequence number another process took: nothing of the batch is durable. Each write
            // again in a transaction of its own, so that only the conflicting one fails.
            foreach (var write in batch)
                Commit([write]);
            return;
        }
        catch (Exception e)
        {
            // Nothing of this transaction is durable: every write in it fails. A fresh connection for the next one.
            _statements?.Dispose();
            _statements = null;
            Complete([.. batch], e);
            return;
        }
        Complete([.. batch], null);
    }

    /// <summary>
    /// Ends the writes' tasks on one pool thread per batch: whatever awaits a write never holds up the next commit,
    /// and a batch of hundreds of writes costs one hop through the pool, not one each.
    /// </summary>
    private static void Complete(Write[] writes, Exception? error) =>
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
        private readonly SqliteConnection _connection;
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _insert;
        private readonly sqlite3_stmt _insertReturningOrdering;
        private readonly sqlite3_stmt _insertTag;
        private readonly sqlite3_stmt _begin;
        private readonly sqlite3_stmt _commit;
        private readonly sqlite3_stmt _rollback;
        private readonly List<sqlite3_stmt> _all = [];

        private Statements(SqliteConnection connection)
        {
            _connection = connection;
            _db = connection.Handle!;
            const string insert = """
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
                VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7)
                """;
            _insert = Prepare(insert);
            _insertReturningOrdering = Prepare(insert + " RETURNING ordering");
            _insertTag = Prepare("INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES (?1, ?2, ?3, ?4)");
            _begin = Prepare("BEGIN IMMEDIATE");
            _commit = Prepare("COMMIT");
            _rollback = Prepare("ROLLBACK");
        }

        // Not pooled: after a failure the connection is closed for good, never handed out again mid-transaction.
        public static Statements Open(string connectionString, string pragmas) =>
            new(SqliteDatabase.Open(connectionString, pragmas, pooling: false));

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
                raw.sqlite3_bind_int64(insert, 1, row.Created);
                raw.sqlite3_bind_text(insert, 2, row.PersistenceId);
                raw.sqlite3_bind_int64(insert, 3, row.SequenceNr);
                raw.sqlite3_bind_blob(insert, 4, row.Message);
                raw.sqlite3_bind_text(insert, 5, row.Manifest);
                raw.sqlite3_bind_int(insert, 6, row.Identifier);
                raw.sqlite3_bind_text(insert, 7, row.WriterUuid);
                if (!tagged)
                {
                    Run(insert);
                    continue;
                }
                var rc = raw.sqlite3_step(insert);
                if (rc != raw.SQLITE_ROW)
                    Fail(insert, rc);
                var ordering = raw.sqlite3_column_int64(insert, 0);
                Run(insert);
                foreach (var tag in row.Tags)
                {
                    raw.sqlite3_bind_int64(_insertTag, 1, ordering);
                    raw.sqlite3_bind_text(_insertTag, 2, tag);
                    raw.sqlite3_bind_int64(_insertTag, 3, row.SequenceNr);
                    raw.sqlite3_bind_text(_insertTag, 4, row.PersistenceId);
                    Run(_insertTag);
                }
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

        private void Fail(sqlite3_stmt statement, int rc)
        {
            var message = raw.sqlite3_errmsg(_db).utf8_to_string();
            var extended = raw.sqlite3_extended_errcode(_db);
            raw.sqlite3_reset(statement);
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
            _connection.Dispose();
        }
    }
}
