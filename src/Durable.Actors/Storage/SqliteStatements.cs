using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>The statements the engine's side tables (index, schedules, queues) run through connections of their own: parameters <c>$1</c>, <c>$2</c>, ….</summary>
internal static class SqliteStatements
{
    /// <summary>A command of <paramref name="sql"/> in <paramref name="transaction"/> (null: none), its values bound to <c>$1</c>, <c>$2</c>, …; DBNull for a null.</summary>
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
            command.Parameters.AddWithValue("$" + (i + 1).ToString(CultureInfo.InvariantCulture), values[i] ?? DBNull.Value);
        return command;
    }

    /// <summary>Runs <paramref name="sql"/>; the rows it changed.</summary>
    public static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }

    public static bool TableExists(SqliteConnection connection, SqliteTransaction? transaction, string name)
    {
        using var command = Command(connection, transaction, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", name);
        return command.ExecuteScalar() is not null;
    }
}
