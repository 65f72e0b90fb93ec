using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// The two reads a recovering workflow actor makes (its events, its highest sequence number), as prepared statements
/// on a small pool of read connections. In WAL mode they never wait for the writer.
/// </summary>
internal sealed class JournalQueries(string connectionString, TimeSpan busyTimeout) : IDisposable
{
    /// <summary>One stored event, as Akka.Persistence.Sql wrote it.</summary>
    public readonly record struct StoredEvent(
        long SequenceNr, byte[] Message, string Manifest, int Identifier, string? WriterUuid, long Created, bool Deleted);

    private readonly ConcurrentBag<Reader> _idle = [];
    private bool _disposed;

    public long HighestSequenceNr(string persistenceId, long fromSequenceNr) =>
        Use(reader => reader.HighestSequenceNr(persistenceId, fromSequenceNr));

    /// <summary>The events of <paramref name="persistenceId"/> in the range, in order, deleted ones left out.</summary>
    public List<StoredEvent> Events(string persistenceId, long fromSequenceNr, long toSequenceNr, long max) =>
        Use(reader => reader.Events(persistenceId, fromSequenceNr, toSequenceNr, max));

    private T Use<T>(Func<Reader, T> query)
    {
        if (!_idle.TryTake(out var reader))
            reader = Reader.Open(connectionString, busyTimeout);
        var healthy = false;
        try
        {
            var result = query(reader);
            healthy = true;
            return result;
        }
        finally
        {
            if (healthy && !Volatile.Read(ref _disposed))
                _idle.Add(reader);
            else
                reader.Dispose();
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_idle.TryTake(out var reader))
            reader.Dispose();
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

        public static Reader Open(string connectionString, TimeSpan busyTimeout)
        {
            var connection = new SqliteConnection(connectionString);
            try
            {
                connection.Open();
                using var pragma = connection.CreateCommand();
                pragma.CommandText = $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds};";
                pragma.ExecuteNonQuery();
                return new Reader(connection);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

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
