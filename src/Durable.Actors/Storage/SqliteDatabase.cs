using System.Text;
using Durable.Actors.Configuration;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>Checks and prepares the database file before any actor touches it.</summary>
internal static class SqliteDatabase
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>Throws <see cref="DatabaseUnavailableException"/> when <paramref name="path"/> exists and is not a SQLite database.</summary>
    public static void EnsureSqliteOrAbsent(string path)
    {
        if (Directory.Exists(path))
            throw new DatabaseUnavailableException(path, $"Database path '{path}' is a folder, not a SQLite database file.");
        if (!File.Exists(path))
            return;
        var buffer = new byte[Header.Length];
        int read;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatabaseUnavailableException(path, $"Cannot read database file '{path}': {e.Message}", e);
        }
        // An empty file is what SQLite makes of a new database; anything else must carry the SQLite header.
        if (read > 0 && (read < Header.Length || !buffer.AsSpan().SequenceEqual(Header)))
            throw new DatabaseUnavailableException(path, $"'{path}' is not a SQLite database; it was left untouched.");
    }

    /// <summary>
    /// Throws <see cref="DatabaseUnavailableException"/> when the SQLite file at <paramref name="path"/> is damaged
    /// (corrupt or truncated). Opens it read-only: it changes nothing. Reads every page, so it suits tools, not hot paths.
    /// </summary>
    public static void EnsureIntact(string path)
    {
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check(1)";
            var result = command.ExecuteScalar() as string;
            if (result != "ok")
                throw new DatabaseUnavailableException(path, $"'{path}' is a damaged SQLite database ({result}); it was left untouched.");
        }
        catch (SqliteException e)
        {
            throw new DatabaseUnavailableException(path, $"'{path}' is a damaged SQLite database ({e.Message}); it was left untouched.", e);
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
