using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// The two reads a recovering workflow actor makes (its events, its highest sequence number), as prepared statements
/// on one read connection owned by one thread. In WAL mode they never wait for the writer. A queue rather than the
/// thread pool: the reads are synchronous SQLite calls, and a thousand actors recovering at once must not each hold
/// a pool thread while they run.
/// </summary>
internal sealed class JournalQueries
{
    /// <summary>One stored event, as Akka.Persistence.Sql wrote it.</summary>
    public readonly record struct StoredEvent(
        long SequenceNr, byte[] Message, string Manifest, int Identifier, string? WriterUuid, long Created, bool Deleted);

    /// <summary>One event carrying a tag, with its persistence id.</summary>
    public readonly record struct TaggedEvent(string PersistenceId, byte[] Message, string Manifest, int Identifier);

    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly object _gate = new();
    private readonly Queue<Action<Reader?, Exception?>> _queue = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    public JournalQueries(string connectionString, TimeSpan busyTimeout)
    {
        _connectionString = connectionString;
        _busyTimeout = busyTimeout;
        new Thread(Run) { IsBackground = true, Name = "durable-actors-journal-reader" }.Start();
    }

    /// <summary>Every event tagged <paramref name="tag"/> in journal order; none when the tables do not exist yet.</summary>
    public static List<TaggedEvent> EventsByTag(string connectionString, TimeSpan busyTimeout, string tag)
    {
        using var reader = Reader.Open(connectionString, busyTimeout);
        return reader.EventsByTag(tag);
    }

    /// <summary>The highest sequence number stored for <paramref name="persistenceId"/>, on a connection of its own.</summary>
    public static long HighestSequenceNr(string connectionString, TimeSpan busyTimeout, string persistenceId)
    {
        using var reader = Reader.Open(connectionString, busyTimeout);
        return reader.HighestSequenceNr(persistenceId, 0);
    }

    /// <summary>Every event of <paramref name="persistenceId"/> in order, on a connection of its own (pooled).</summary>
    public static List<StoredEvent> Events(string connectionString, TimeSpan busyTimeout, string persistenceId)
    {
        using var reader = Reader.Open(connectionString, busyTimeout);
        return reader.Events(persistenceId, 0, long.MaxValue, long.MaxValue);
    }

    /// <summary>The last event of each persistence id (null for none), on one connection of its own.</summary>
    public static List<StoredEvent?> LastEvents(string connectionString, TimeSpan busyTimeout, IEnumerable<string> persistenceIds)
    {
        using var reader = Reader.Open(connectionString, busyTimeout);
        return persistenceIds.Select(id => reader.HighestSequenceNr(id, 0) is var highest and > 0
            ? reader.Events(id, highest, highest, 1).Cast<StoredEvent?>().FirstOrDefault()
            : null).ToList();
    }

    public Task<long> HighestSequenceNrAsync(string persistenceId, long fromSequenceNr) =>
        Enqueue(reader => reader.HighestSequenceNr(persistenceId, fromSequenceNr));

    /// <summary>The events of <paramref name="persistenceId"/> in the range, in order, deleted ones left out.</summary>
    public Task<List<StoredEvent>> EventsAsync(string persistenceId, long fromSequenceNr, long toSequenceNr, long max) =>
        Enqueue(reader => reader.Events(persistenceId, fromSequenceNr, toSequenceNr, max));

    private Task<T> Enqueue<T>(Func<Reader, T> query)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_stopping)
                return Task.FromException<T>(new InvalidOperationException("The journal is stopping."));
            _queue.Enqueue((reader, error) =>
            {
                if (error is not null)
                {
                    done.TrySetException(error);
                    return;
                }
                try
                {
                    done.TrySetResult(query(reader!));
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                    throw;
                }
            });
            Monitor.Pulse(_gate);
        }
        return done.Task;
    }

    private void Run()
    {
        try
        {
            Serve();
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    private void Serve()
    {
        Reader? reader = null;
        while (true)
        {
            Action<Reader?, Exception?> work;
            lock (_gate)
            {
                while (_queue.Count == 0 && !_stopping)
                    Monitor.Wait(_gate);
                if (_queue.Count == 0)
                    break;
                work = _queue.Dequeue();
            }
            try
            {
                reader ??= Reader.Open(_connectionString, _busyTimeout);
            }
            catch (Exception e)
            {
                work(null, e);
                continue;
            }
            try
            {
                work(reader, null);
            }
            catch
            {
                // The query failed and its caller has the error; a fresh connection for the next one.
                reader.Dispose();
                reader = null;
            }
        }
        reader?.Dispose();
    }

    /// <summary>
    /// Refuses further reads and returns at once; the task ends when the queued reads are answered and the connection
    /// closed, or after the busy timeout and 5 s (not an error). See <see cref="JournalWriter.StopAsync"/>.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        return JournalWriter.EndedAsync(_ended.Task, _busyTimeout + TimeSpan.FromSeconds(5));
    }

    private sealed class Reader : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _highest;
        private readonly SqliteCommand _events;

        private Reader(SqliteConnection connection)
        {
            _connection = connection;
            _highest = Command("SELECT MAX(sequence_number) FROM journal WHERE persistence_id = $pid AND sequence_number >= $from",
                "$pid", "$from");
            _events = Command("""
                SELECT sequence_number, message, manifest, identifier, writer_uuid, created, deleted FROM journal
                WHERE persistence_id = $pid AND sequence_number >= $from AND sequence_number <= $to AND deleted = 0
                ORDER BY sequence_number LIMIT $max
                """, "$pid", "$from", "$to", "$max");
        }

        public static Reader Open(string connectionString, TimeSpan busyTimeout) =>
            new(SqliteDatabase.Open(connectionString, $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds};"));

        public long HighestSequenceNr(string persistenceId, long fromSequenceNr)
        {
            _highest.Parameters[0].Value = persistenceId;
            _highest.Parameters[1].Value = fromSequenceNr;
            return _highest.ExecuteScalar() is long highest ? highest : 0;
        }

        public List<StoredEvent> Events(string persistenceId, long fromSequenceNr, long toSequenceNr, long max)
        {
            _events.Parameters[0].Value = persistenceId;
            _events.Parameters[1].Value = fromSequenceNr;
            _events.Parameters[2].Value = toSequenceNr;
            _events.Parameters[3].Value = max;
            var events = new List<StoredEvent>();
            using var reader = _events.ExecuteReader();
            while (reader.Read())
            {
                events.Add(new StoredEvent(
                    reader.GetInt64(0),
                    (byte[])reader.GetValue(1),
                    reader.IsDBNull(2) ? "" : reader.GetString(2),
                    reader.IsDBNull(3) ? 0 : reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5),
                    reader.GetBoolean(6)));
            }
            return events;
        }

        public List<TaggedEvent> EventsByTag(string tag)
        {
            using var command = Command("""
                SELECT j.persistence_id, j.message, j.manifest, j.identifier FROM tags t JOIN journal j ON j.ordering = t.ordering_id
                WHERE t.tag = $tag ORDER BY t.ordering_id
                """, "$tag");
            command.Parameters[0].Value = tag;
            var events = new List<TaggedEvent>();
            try
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    events.Add(new TaggedEvent(
                        reader.GetString(0),
                        (byte[])reader.GetValue(1),
                        reader.IsDBNull(2) ? "" : reader.GetString(2),
                        reader.IsDBNull(3) ? 0 : reader.GetInt32(3)));
                }
            }
            catch (SqliteException e) when (e.Message.Contains("no such table", StringComparison.Ordinal))
            {
                // A database no journal has written to yet: nothing is tagged.
            }
            return events;
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
            _highest.Dispose();
            _events.Dispose();
            _connection.Dispose();
        }
    }
}
