using System.Data.Common;
using System.Globalization;

namespace Durable.Actors.Storage;

/// <summary>
/// The database of the engine's side tables (schedules, queue entries): the engine's SQLite file on one machine,
/// PostgreSQL on a cluster. Their stores write each statement once, with parameters <c>$1</c>, <c>$2</c>, …; a
/// dialect supplies the few words that differ, how to open a connection and how to take the write lock.
/// </summary>
internal abstract class SideTables
{
    /// <summary>A column of a 64-bit integer.</summary>
    public abstract string BigInt { get; }

    /// <summary>The column type of a key numbered by the database, in insertion order, never handing out a number twice.</summary>
    public abstract string SerialKey { get; }

    /// <summary>
    /// Whether <paramref name="table"/>'s serial key hands out the number of its last row again once that row is
    /// deleted: SQLite's tables made before <see cref="SerialKey"/> said AUTOINCREMENT.
    /// </summary>
    public virtual bool ReusesSerialKeys(DbConnection connection, DbTransaction? transaction, string table) => false;

    /// <summary>Ends a table definition whose primary key is its only lookup (SQLite's <c>WITHOUT ROWID</c>), or nothing.</summary>
    public abstract string KeyedTable { get; }

    /// <summary>The scalar function of the larger of two values.</summary>
    public abstract string Greatest { get; }

    public abstract DbConnection Open();

    public abstract bool TableExists(DbConnection connection, DbTransaction? transaction, string name);

    /// <summary>
    /// A transaction that holds the side tables' write lock from its first statement: the writes of other processes
    /// wait, so that a check read in it still holds at its commit, and numbered rows commit in the order of their keys.
    /// </summary>
    public abstract DbTransaction BeginWrite(DbConnection connection);

    protected abstract string ParameterName(int position);

    /// <summary>A command of <paramref name="sql"/> in <paramref name="transaction"/> (null: none), its values bound to <c>$1</c>, <c>$2</c>, …; DBNull for a null.</summary>
    public DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = ParameterName(i + 1);
            parameter.Value = values[i] ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>Runs <paramref name="sql"/>; the rows it changed.</summary>
    public int Execute(DbConnection connection, DbTransaction? transaction, string sql, params object?[] values)
    {
        using var command = Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }
}

/// <summary>The side tables in the engine's SQLite file, through connections of their own with the engine's busy timeout.</summary>
internal sealed class SqliteSideTables(string connectionString, TimeSpan busyTimeout) : SideTables
{
    public override string BigInt => "INTEGER";

    // AUTOINCREMENT: a plain rowid key gives a new row the number of the last row if that one was deleted.
    public override string SerialKey => "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT";

    public override bool ReusesSerialKeys(DbConnection connection, DbTransaction? transaction, string table)
    {
        using var command = Command(connection, transaction, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1", table);
        return command.ExecuteScalar() is string sql && !sql.Contains("AUTOINCREMENT", StringComparison.OrdinalIgnoreCase);
    }

    public override string KeyedTable => "WITHOUT ROWID";

    public override string Greatest => "max";

    public override DbConnection Open() =>
        SqliteDatabase.Open(connectionString, $"PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds};");

    public override bool TableExists(DbConnection connection, DbTransaction? transaction, string name) =>
        SqliteStatements.TableExists((Microsoft.Data.Sqlite.SqliteConnection)connection, (Microsoft.Data.Sqlite.SqliteTransaction?)transaction, name);

    // BEGIN IMMEDIATE: the file's write lock from the start, waiting up to the busy timeout for it.
    public override DbTransaction BeginWrite(DbConnection connection) => ((Microsoft.Data.Sqlite.SqliteConnection)connection).BeginTransaction(deferred: false);

    protected override string ParameterName(int position) => "$" + position.ToString(CultureInfo.InvariantCulture);
}
