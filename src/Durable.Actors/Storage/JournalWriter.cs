using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// The single writer of journal rows: one thread, one connection, prepared statements. Writes queue up while a
/// commit is under way and the next transaction takes all of them (group commit), so many workflows share one
/// fsync and one workflow alone pays one commit per write. Each queued write is all or nothing on its own: a write
/// that fails (a sequence number another process already wrote) is rolled back to its savepoint and fails alone.
/// </summary>
internal sealed class JournalWriter : IDisposable
{
    /// <summary>One journal row in Akka.Persistence.Sql's layout, with the tags that go to its tag table.</summary>
    public sealed record Row(
        string PersistenceId, long SequenceNr, long Created, byte[] Message, string Manifest, int Identifier, string WriterUuid, string[] Tags);

    private sealed class Write(IReadOnlyList<Row> rows)
    {
        public IReadOnlyList<Row> Rows { get; } = rows;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
        _pragmas = $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds}; PRAGMA synchronous={synchronous};";
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
        var failed = new Exception?[batch.Count];
        try
        {
            var statements = _statements ??= Statements.Open(_connectionString, _pragmas);
            using var transaction = statements.Begin();
            for (var i = 0; i < batch.Count; i++)
                failed[i] = statements.TryInsert(batch[i].Rows, alone: batch.Count == 1);
            transaction.Commit();
        }
        catch (Exception e)
        {
            // Nothing of this transaction is durable: every write in it fails. A fresh connection for the next one.
            _statements?.Dispose();
            _statements = null;
            foreach (var write in batch)
                write.Done.TrySetException(e);
            return;
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (failed[i] is { } error)
                batch[i].Done.TrySetException(error);
            else
                batch[i].Done.TrySetResult();
        }
    }

    /// <summary>The connection and its prepared statements.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _insert;
        private readonly SqliteCommand _insertReturningOrdering;
        private readonly SqliteCommand _insertTag;
        private readonly SqliteCommand _savepoint;
        private readonly SqliteCommand _release;
        private readonly SqliteCommand _rollbackToSavepoint;

        private Statements(SqliteConnection connection)
        {
            _connection = connection;
            const string insert = """
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
                VALUES ($created, 0, $pid, $seq, $message, $manifest, $identifier, $writer)
                """;
            _insert = Command(insert, "$created", "$pid", "$seq", "$message", "$manifest", "$identifier", "$writer");
            _insertReturningOrdering = Command(insert + " RETURNING ordering", "$created", "$pid", "$seq", "$message", "$manifest", "$identifier", "$writer");
            _insertTag = Command("INSERT INTO tags (ordering_id, tag, sequence_nr, persistence_id) VALUES ($ordering, $tag, $seq, $pid)",
                "$ordering", "$tag", "$seq", "$pid");
            _savepoint = Command("SAVEPOINT write");
            _release = Command("RELEASE write");
            _rollbackToSavepoint = Command("ROLLBACK TO write");
        }

        public static Statements Open(string connectionString, string pragmas)
        {
            var connection = new SqliteConnection(connectionString);
            try
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = pragmas;
                command.ExecuteNonQuery();
                return new Statements(connection);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>BEGIN IMMEDIATE: takes the write lock now, waiting up to the busy timeout for it.</summary>
        public SqliteTransaction Begin()
        {
            var transaction = _connection.BeginTransaction(deferred: false);
            foreach (var command in new[] { _insert, _insertReturningOrdering, _insertTag, _savepoint, _release, _rollbackToSavepoint })
                command.Transaction = transaction;
            return transaction;
        }

        /// <summary>Inserts one write's rows; returns the error that undid them, or null.</summary>
        public Exception? TryInsert(IReadOnlyList<Row> rows, bool alone)
        {
            // Alone in its transaction, a failing write fails the transaction; beside others, only its savepoint.
            if (alone)
            {
                Insert(rows);
                return null;
            }
            _savepoint.ExecuteNonQuery();
            try
            {
                Insert(rows);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the sequence number is taken
            {
                _rollbackToSavepoint.ExecuteNonQuery();
                _release.ExecuteNonQuery();
                return e;
            }
            _release.ExecuteNonQuery();
            return null;
        }

        private void Insert(IReadOnlyList<Row> rows)
        {
            foreach (var row in rows)
            {
                var command = row.Tags.Length == 0 ? _insert : _insertReturningOrdering;
                var p = command.Parameters;
                p[0].Value = row.Created;
                p[1].Value = row.PersistenceId;
                p[2].Value = row.SequenceNr;
                p[3].Value = row.Message;
                p[4].Value = row.Manifest;
                p[5].Value = row.Identifier;
                p[6].Value = row.WriterUuid;
                if (row.Tags.Length == 0)
                {
                    command.ExecuteNonQuery();
                    continue;
                }
                var ordering = (long)command.ExecuteScalar()!;
                foreach (var tag in row.Tags)
                {
                    var t = _insertTag.Parameters;
                    t[0].Value = ordering;
                    t[1].Value = tag;
                    t[2].Value = row.SequenceNr;
                    t[3].Value = row.PersistenceId;
                    _insertTag.ExecuteNonQuery();
                }
            }
        }

        private SqliteCommand Command(string sql, params string[] parameters)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            return command;
        }

        public void Dispose()
        {
            foreach (var command in new[] { _insert, _insertReturningOrdering, _insertTag, _savepoint, _release, _rollbackToSavepoint })
                command.Dispose();
            _connection.Dispose();
        }
    }
}
