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
        if (Directory.Exists(path))
            throw new DatabaseUnavailableException(path, $"Database path '{path}' is a folder, not a SQLite database file.");
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

    private static DatabaseUnavailableException Damaged(string path, string? problem, Exception? inner = null) =>
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

    /// <summary>
    /// Throws <see cref="DatabaseUnavailableException"/> when the SQLite file at <paramref name="path"/> is damaged
    /// (corrupt or truncated). Opens it read-only: it changes nothing. Reads every page, so it suits tools, not hot paths.
    /// </summary>
    public static void EnsureIntact(string path)
    {
        try
        {
            using var connection = OpenReadOnly(path);
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

    /// <summary>Creates the folder and file if needed and turns on WAL, a property of the file that persists.</summary>
    public static void Prepare(DurableSettings settings)
    {
        if (settings.DatabasePath is { } path)
        {
            EnsureSqliteOrAbsent(path);
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
            using var connection = new SqliteConnection(settings.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout={(long)settings.BusyTimeout.TotalMilliseconds}; PRAGMA journal_mode=WAL;";
            command.ExecuteScalar();
        }
        catch (SqliteException e)
        {
            var where = settings.DatabasePath ?? settings.ConnectionString;
            throw new DatabaseUnavailableException(where, $"Cannot open SQLite database '{where}': {e.Message}", e);
        }
    }
}
