using System.Globalization;
using Akka.Configuration;
using Durable.Actors.Cli.Hosting;
using Npgsql;

namespace Durable.Actors.Cli.Targets;

/// <summary>
/// Where a workflow command works, as its options say: the SQLite file of <c>--db</c>, or a cluster's PostgreSQL
/// database (<c>--postgres</c>) and, for the commands that send to workflows (<paramref name="Join"/>), the cluster's
/// seed nodes, and the nodes' HOCON file (<c>--config</c>). The option names given explicitly are kept, to refuse those
/// that belong to the other mode.
/// </summary>
internal sealed record StoreOptions(
    string Database,
    string? Postgres,
    IReadOnlyList<string> SqliteOptionsGiven,
    IReadOnlyList<string> ClusterOptionsGiven,
    string? ConfigFile = null,
    ClusterJoinOptions? Join = null)
{
    /// <summary>The SQLite file: for commands without the cluster options (crash-after, recover, check, ...).</summary>
    public static StoreOptions Sqlite(string database) => new(database, null, [], []);

    /// <summary>The cluster to work on, or null for the SQLite file; refuses a mix of the two modes' options.</summary>
    public ClusterConnection? Cluster(string command)
    {
        if (Postgres is null)
        {
            if (ClusterOptionsGiven.Count > 0)
                throw new UsageException($"{ClusterOptionsGiven[0]} needs --postgres <connection string>: it is an option of a cluster (without --postgres, {command} works on the SQLite file of --db)");
            return null;
        }
        if (SqliteOptionsGiven.Count > 0)
            throw new UsageException(SqliteOptionsGiven[0] == "--db"
                ? "--db cannot be used with --postgres: --db names a SQLite database, --postgres a cluster's; give one of them"
                : $"{SqliteOptionsGiven[0]} cannot be used with --postgres: it is an option of a SQLite database (--db)" +
                  (SqliteOptionsGiven[0] is "--effects" or "--stale-timeout" ? $"; on a cluster the nodes run the steps: give {SqliteOptionsGiven[0]} to serve --cluster" : ""));
        if (string.IsNullOrWhiteSpace(Postgres))
            throw new UsageException("--postgres needs a connection string, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"");
        string where;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(Postgres);
            where = $"PostgreSQL database '{builder.Database ?? builder.Username ?? "postgres"}' at {builder.Host}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new UsageException($"--postgres is not a PostgreSQL connection string: {e.Message}");
        }

        var settings = ConfigFile is null ? Akka.Configuration.Config.Empty : ClusterNode.ReadConfig(ConfigFile);
        if (Join is null)
            return new ClusterConnection(Postgres, where, [], "", 0, TimeSpan.Zero, settings);
        if (Join.Seeds.Count == 0)
            throw new UsageException($"{command} on a cluster needs --seed host:port: a node of the cluster to join (serve --cluster runs one; repeat --seed for several)");
        var seeds = Join.Seeds.Select(ClusterNode.SeedAddress).ToList();
        if (Join.Port is < 0 or > 65535)
            throw new UsageException($"--port must be from 0 (any free port) to 65535, not {Join.Port}");
        var timeout = Durations.Parse(Join.JoinTimeout, "--join-timeout");
        if (timeout <= TimeSpan.Zero)
            throw new UsageException($"--join-timeout must be more than 0, not {Join.JoinTimeout}");
        return new ClusterConnection(Postgres, where, seeds, Join.Hostname, Join.Port, timeout, settings);
    }
}

/// <summary>How a command that sends to workflows joins the cluster: <c>--seed</c>, <c>--hostname</c>, <c>--port</c>, <c>--join-timeout</c>.</summary>
internal sealed record ClusterJoinOptions(IReadOnlyList<string> Seeds, string Hostname, int Port, string JoinTimeout);

/// <summary>
/// A cluster as a command reaches it: its PostgreSQL database (<see cref="Description"/> names it), its seed nodes, and
/// the nodes' own settings (<c>--config</c>), under the command's.
/// </summary>
internal sealed record ClusterConnection(string ConnectionString, string Description, IReadOnlyList<string> Seeds, string Hostname, int Port, TimeSpan JoinTimeout, Config Settings);
