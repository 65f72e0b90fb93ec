using Durable.Actors.Cluster.Storage;
using Durable.Actors.Storage;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Cli.Targets;

/// <summary>
/// The schedules' and queues' tables of a command's target: in the SQLite file of <c>--db</c>, or in a cluster's
/// PostgreSQL database (<c>--postgres</c>), where its nodes' scheduler and dispatcher read them.
/// </summary>
internal sealed record FlowTables(SideTables Tables, string Description)
{
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The tables of <paramref name="store"/> as <paramref name="use"/> needs them; null for a SQLite file that a read
    /// finds missing (nothing to read, and nothing created).
    /// </summary>
    public static FlowTables? Of(StoreOptions store, string command, DatabaseUse use)
    {
        if (store.Cluster(command) is { } cluster)
            return new FlowTables(new PostgresSideTables(cluster.ConnectionString), cluster.Description);
        var target = SqliteTarget.Of(store.Database, use);
        if (use.Reading && !use.MustExist)
        {
            if (!File.Exists(target.Database))
                return null;
            SqliteDatabase.EnsureSqliteOrAbsent(target.Database);
        }
        var connectionString = new SqliteConnectionStringBuilder { DataSource = target.Database }.ConnectionString;
        // A file a command writes to gets the journal's tables (and the schedules') as a host's start would make them.
        if (!use.Reading)
            SqliteDatabase.EnsureTables(connectionString, BusyTimeout);
        return new FlowTables(new SqliteSideTables(connectionString, BusyTimeout), target.Description);
    }
}
