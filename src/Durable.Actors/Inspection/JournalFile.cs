using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Inspection;

/// <summary>
/// The engine's SQLite journal file read directly, without an ActorSystem: what the CLI's <c>status</c>, <c>history</c>
/// and <c>list</c> need. Opening it checks only what is cheap (SQLite's header and the schema, read from the first
/// pages); a page that a read meets damaged fails that read as damage, and pages no read meets are not read at all
/// (the whole-file scan is <see cref="SqliteDatabase.EnsureIntact(string)"/>, for <c>check</c>).
/// </summary>
/// <remarks>
/// Nothing is written, not even SQLite's side files: without a <c>-wal</c> file (no host has the database open, and the
/// last one checkpointed) the file is opened as immutable, so SQLite creates no <c>-wal</c>/<c>-shm</c> and takes no
/// lock; with one (a host runs on it, or one was killed) it is opened read-only and reads the WAL too, as a host's
/// connection would. A host that opens the file while an immutable read runs is seen by <see cref="IsCurrent"/>: read again.
/// </remarks>
internal sealed class JournalFile : IDisposable
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    private readonly SqliteConnection _connection;
    private readonly bool _immutable;

    private JournalFile(string path, SqliteConnection connection, bool immutable, IReadOnlyList<string> tables)
    {
        Path = path;
        _connection = connection;
        _immutable = immutable;
        Tables = tables;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>Its tables, SQLite's own left out.</summary>
    public IReadOnlyList<string> Tables { get; }

    /// <summary>Whether it holds the engine's journal.</summary>
    public bool HasJournal => SqliteDatabase.HasJournalTable(Tables);

    /// <summary>
    /// False when the file was read as immutable and a host has opened it since (its <c>-wal</c> exists now): what was read
    /// may miss the host's writes; open it again and read again.
    /// </summary>
    public bool IsCurrent => !_immutable || !File.Exists(Path + "-wal");

    /// <summary>
    /// Opens the existing file at <paramref name="path"/> and reads its schema: throws <see cref="DatabaseUnavailableException"/>
    /// when it is not a SQLite database or its schema is damaged.
    /// </summary>
    public static JournalFile Open(string path)
    {
        var immutable = !File.Exists(path + "-wal");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? new Uri(path).AbsoluteUri + "?immutable=1" : path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ConnectionString);
        try
        {
            connection.Open();
            using (var command = connection.CreateCommand())
            {
                // A host checkpointing or recovering its WAL holds a lock briefly.
                command.CommandText = "PRAGMA busy_timeout=5000";
                command.ExecuteNonQuery();
            }
            var tables = Guard(path, () => SqliteDatabase.Tables(connection, path));
            return new JournalFile(path, connection, immutable, tables);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw Unreadable(path, e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One workflow's events folded; null when it has none. Throws <see cref="NotSupportedException"/> when an event was
    /// written by another serializer than the engine's (read it through an ActorSystem then).
    /// </summary>
    public WorkflowJournal? Read(string workflowId) => Guard(Path, () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT message, manifest, identifier FROM journal
            WHERE persistence_id = $pid AND deleted = 0 ORDER BY sequence_number
            """;
        command.Parameters.AddWithValue("$pid", WorkflowActor.PersistenceIdPrefix + workflowId);
        var journal = new WorkflowJournal();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            journal.Apply(Event(reader));
        return journal.Exists ? journal : null;
    });

    /// <summary>One page of the workflow index, newest first; null when the file has no index yet (a host builds it).</summary>
    public WorkflowPage? Page(WorkflowQuery query)
    {
        var after = JournalReader.Validate(query);
        return Guard(Path, () =>
        {
            if (!WorkflowIndexStore.Exists(_connection))
                return null;
            var rows = WorkflowIndexStore.Page(_connection, query, after, out var more);
            return JournalReader.Page(rows, more);
        });
    }

    /// <summary>The recorded result of each completed workflow of <paramref name="workflowIds"/>, read from its last event.</summary>
    public IReadOnlyDictionary<string, string> Results(IEnumerable<string> workflowIds) => Guard(Path, () =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT message, manifest, identifier FROM journal
            WHERE persistence_id = $pid AND deleted = 0 ORDER BY sequence_number DESC LIMIT 1
            """;
        var pid = command.Parameters.Add(new SqliteParameter { ParameterName = "$pid" });
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in workflowIds)
        {
            pid.Value = WorkflowActor.PersistenceIdPrefix + id;
            using var reader = command.ExecuteReader();
            if (reader.Read() && Event(reader) is RunCompleted completed)
                results[id] = completed.ResultJson;
        }
        return (IReadOnlyDictionary<string, string>)results;
    });

    private static IJournalEvent Event(SqliteDataReader reader)
    {
        var identifier = reader.IsDBNull(2) ? 0 : reader.GetInt32(2);
        if (identifier != JournalEventSerializer.Id)
            throw new NotSupportedException($"A journal event was written by serializer {identifier}, not the engine's ({JournalEventSerializer.Id}).");
        return JournalEventSerializer.Read((byte[])reader.GetValue(0), reader.IsDBNull(1) ? "" : reader.GetString(1));
    }

    /// <summary>Runs a read; a page it meets damaged (or a file that is not SQLite) is reported as such.</summary>
    private static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SqliteException e)
        {
            throw Unreadable(path, e);
        }
        catch (DatabaseUnavailableException e) when (e.InnerException is SqliteException inner)
        {
            // SqliteDatabase.Tables words "not a database" without saying the file was left alone; say it as the other checks do.
            throw Unreadable(path, inner);
        }
    }

    private static DatabaseUnavailableException Unreadable(string path, SqliteException e) => e.SqliteErrorCode switch
    {
        SqliteNotADatabase => new DatabaseUnavailableException(path, $"'{path}' is not a SQLite database; it was left untouched.", e),
        SqliteCorrupt => SqliteDatabase.Damaged(path, e.Message, e),
        _ => new DatabaseUnavailableException(path, $"Cannot read database file '{path}': {e.Message}", e),
    };

    public void Dispose() => _connection.Dispose();
}
