using Durable.Actors.Configuration;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>Checks and prepares the database file before any actor touches it.</summary>
internal static class SqliteDatabase
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>Throws <see cref="DatabaseUnavailableException"/> when <paramref name="path"/> exists and is not a SQLite database.</summary>
    /// <remarks>
    /// Asks SQLite itself, read-only, rather than reading the header with a FileStream: closing any other descriptor of
    /// the file would drop the POSIX locks that this process's SQLite connections hold on it.
    /// </remarks>
    public static void EnsureSqliteOrAbsent(string path)
    {
        EnsureNotFolder(path);
        if (!File.Exists(path))
            return;
        try
        {
            using var connection = OpenReadOnly(path);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA schema_version";
            command.ExecuteScalar();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteNotADatabase)
        {
            throw new DatabaseUnavailableException(path, $"'{path}' is not a SQLite database; it was left untouched.", e);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteCorrupt)
        {
            throw Damaged(path, e.Message, e);
        }
        catch (SqliteException e)
        {
            throw new DatabaseUnavailableException(path, $"Cannot read database file '{path}': {e.Message}", e);
        }
    }

    /// <summary>Throws <see cref="DatabaseUnavailableException"/> when <paramref name="path"/> is a folder.</summary>
    public static void EnsureNotFolder(string path)
    {
        if (Directory.Exists(path))
            throw new DatabaseUnavailableException(path, $"Database path '{path}' is a folder, not a SQLite database file.");
    }

    /// <summary>The error for a damaged file: <paramref name="problem"/> is SQLite's word for it (its first line is kept).</summary>
    internal static DatabaseUnavailableException Damaged(string path, string? problem, Exception? inner = null) =>
        new(path, $"'{path}' is a damaged SQLite database ({problem?.Split('\n')[0].Trim()}); it was left untouched.", inner);

    private static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>The tables of the engine's journal (Akka.Persistence.Sql's layout).</summary>
    public static readonly IReadOnlyList<string> JournalTableNames = ["journal", "tags"];

    /// <summary>The names of the tables in the existing SQLite file at <paramref name="path"/>, SQLite's own left out. Read-only.</summary>
    public static IReadOnlyList<string> Tables(string path)
    {
        SqliteConnection connection;
        try
        {
            connection = OpenReadOnly(path);
        }
        catch (SqliteException e)
        {
            throw new DatabaseUnavailableException(path, $"Cannot read database file '{path}': {e.Message}", e);
        }
        using (connection)
            return Tables(connection, path);
    }

    /// <summary>The names of the tables of the database open on <paramref name="connection"/> (the file at <paramref name="path"/>, for errors), SQLite's own left out.</summary>
    public static IReadOnlyList<string> Tables(SqliteConnection connection, string path)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
            using var reader = command.ExecuteReader();
            var tables = new List<string>();
            while (reader.Read())
                tables.Add(reader.GetString(0));
            return tables;
        }
        catch (SqliteException e)
        {
            throw new DatabaseUnavailableException(path, e.SqliteErrorCode == 26
                ? $"'{path}' is not a SQLite database."
                : $"Cannot read database file '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Turns WAL on and creates what is missing of the engine's tables: the journal's, the workflow index (built from
    /// the journal: a database written before it existed, or whose index was dropped) and the schedules'. The queues'
    /// table is created by the first enqueue (a database that never enqueues has none; its readers take none as empty).
    /// </summary>
    internal static void EnsureTables(string connectionString, TimeSpan busyTimeout)
    {
        using var connection = EnsureWal(connectionString, busyTimeout);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('journal', 'tags')";
        // A read first: a database that has its tables needs no write lock here (another process may hold it).
        if ((long)command.ExecuteScalar()! < 2)
        {
            using var transaction = connection.BeginTransaction();
            command.Transaction = transaction;
            command.CommandText = JournalTables;
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        WorkflowIndexStore.EnsureBuilt(connection);
        new Scheduling.ScheduleStore(new SqliteSideTables(connectionString, busyTimeout)).Ensure();
    }

    private static SqliteConnection EnsureWal(string connectionString, TimeSpan busyTimeout)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds}; PRAGMA journal_mode=WAL;";
            command.ExecuteScalar();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Whether one of <paramref name="tables"/> is a journal table of the engine (SQLite's names ignore case).</summary>
    public static bool HasJournalTable(IEnumerable<string> tables) =>
        tables.Any(t => JournalTableNames.Contains(t, StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// Whether the existing file at <paramref name="path"/> belongs to another application: it has tables and none of
    /// them is the engine's. An empty database is not foreign. <paramref name="tables"/> lists them when it is.
    /// </summary>
    public static bool IsForeign(string path, out IReadOnlyList<string> tables)
    {
        tables = Tables(path);
        return tables.Count > 0 && !HasJournalTable(tables);
    }

    /// <summary>A short list of table names for a one-line message.</summary>
    public static string Describe(IReadOnlyList<string> tables) =>
        string.Join(", ", tables.Take(5)) + (tables.Count > 5 ? $" and {tables.Count - 5} more" : "");

    /// <summary>The PRAGMAs every connection of the engine runs once: they are per connection, not per file.</summary>
    public static string ConnectionPragmas(string synchronous, TimeSpan busyTimeout) =>
        $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds}; PRAGMA synchronous={synchronous};";

    /// <summary>Opens a connection and runs <paramref name="pragmas"/> on it; disposes it when either fails.</summary>
    public static SqliteConnection Open(string connectionString, string pragmas, bool pooling = true)
    {
        if (!pooling)
            connectionString = new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = pragmas;
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws <see cref="DatabaseUnavailableException"/> when the SQLite file at <paramref name="path"/> is damaged
    /// (corrupt or truncated). Opens it read-only: it changes nothing. Reads every page, so it suits tools, not hot paths.
    /// </summary>
    public static void EnsureIntact(string path)
    {
        try
        {
            using var connection = OpenReadOnly(path);
            EnsureIntact(connection, path);
        }
        catch (SqliteException e)
        {
            throw Damaged(path, e.Message, e);
        }
    }

    /// <summary>
    /// <see cref="EnsureIntact(string)"/> on an open connection to the file at <paramref name="path"/> (named in the error):
    /// <c>PRAGMA quick_check</c>, which reads every page of every table and index.
    /// </summary>
    public static void EnsureIntact(SqliteConnection connection, string path)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check(1)";
            var result = command.ExecuteScalar() as string;
            if (result != "ok")
                throw Damaged(path, result);
        }
        catch (SqliteException e)
        {
            throw Damaged(path, e.Message, e);
        }
    }

    // The journal tables of Akka.Persistence.Sql 1.5.73 on SQLite (tag-write-mode TagTable), as the plugin creates
    // them, created here with plain SQL: the plugin's own creation runs through linq2db and cost a starting host
    // ~0.4 s. IF NOT EXISTS leaves a database the plugin created as it is.
    private const string JournalTables = """
        CREATE TABLE IF NOT EXISTS [journal]
        (
            [ordering]        INTEGER        NOT NULL PRIMARY KEY AUTOINCREMENT,
            [created]         INTEGER        NOT NULL,
            [deleted]         Bit            NOT NULL,
            [persistence_id]  NVarChar(255)  NOT NULL,
            [sequence_number] INTEGER        NOT NULL,
            [message]         VarBinary      NOT NULL,
            [manifest]        NVarChar(500)      NULL,
            [identifier]      INTEGER            NULL,
            [writer_uuid]     NVarChar(128)      NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS journal_uq ON journal (persistence_id, sequence_number);
        CREATE INDEX IF NOT EXISTS journal_created_idx ON journal (created);
        CREATE INDEX IF NOT EXISTS journal_sequence_number_idx ON journal (sequence_number);
        CREATE TABLE IF NOT EXISTS [tags]
        (
            [ordering_id]    INTEGER       NOT NULL,
            [tag]            NVarChar(64)  NOT NULL,
            [sequence_nr]    INTEGER       NOT NULL,
            [persistence_id] NVarChar(255) NOT NULL,
            CONSTRAINT [PK_tags] PRIMARY KEY ([ordering_id], [tag])
        );
        CREATE INDEX IF NOT EXISTS tags_persistence_id_sequence_nr_idx ON tags (persistence_id, sequence_nr);
        CREATE INDEX IF NOT EXISTS tags_tag_idx ON tags (tag);
        """;

    /// <summary>
    /// Creates the folder and file if needed, turns on WAL (a property of the file that persists), and creates the
    /// journal tables and the workflow index (built from the journal when the database has none) when the engine's own
    /// journal is used.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">
    /// The file is not a SQLite database, cannot be created or opened, or is another application's database (it has
    /// tables, none of them the engine's) and <c>durable-actors.allow-foreign-database</c> is off; then nothing was written.
    /// </exception>
    public static void Prepare(DurableSettings settings)
    {
        if (settings.DatabasePath is { } path)
        {
            EnsureSqliteOrAbsent(path);
            // Before anything writes (turning WAL on writes the file header): another application's database is refused.
            if (settings.JournalPluginId == PersistencePlugins.JournalPath && !settings.AllowForeignDatabase
                && File.Exists(path) && IsForeign(path, out var tables))
                throw new DatabaseUnavailableException(path,
                    $"'{path}' is another application's SQLite database (tables: {Describe(tables)}), not a Durable.Actors journal; " +
                    "it was left untouched. Use another file, or set durable-actors.allow-foreign-database = on to add the journal tables to it.");
            var folder = Path.GetDirectoryName(path)!;
            try
            {
                Directory.CreateDirectory(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DatabaseUnavailableException(path, $"Cannot create the database folder '{folder}': {e.Message}", e);
            }
        }

        try
        {
            if (settings.JournalPluginId == PersistencePlugins.JournalPath)
                EnsureTables(settings.ConnectionString, settings.BusyTimeout);
            else
                EnsureWal(settings.ConnectionString, settings.BusyTimeout).Dispose();
        }
        catch (SqliteException e)
        {
            var where = settings.DatabasePath ?? settings.ConnectionString;
            throw new DatabaseUnavailableException(where, $"Cannot open SQLite database '{where}': {e.Message}", e);
        }
    }
}
