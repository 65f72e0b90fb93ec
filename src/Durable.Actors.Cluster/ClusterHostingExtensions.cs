using System.Globalization;
using Akka.Hosting;
using Durable.Actors.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Durable.Actors.Cluster;

/// <summary>Registers the engine in cluster mode with Akka.Hosting.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// Adds the engine in cluster mode, beside your <c>WithRemoting</c> and <c>WithClustering</c> (give the nodes that run
    /// workflows the role <c>workflows</c>): the PostgreSQL journal, the shard region of the workflows (registered as
    /// <see cref="WorkflowCoordinator"/>) and the typed client.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="postgresConnectionString">The PostgreSQL database that holds the journal (its tables are created on first use).</param>
    /// <param name="configure">Registers workflow types and sets options.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithDurableWorkflowsCluster(
        this AkkaConfigurationBuilder builder, string postgresConnectionString, Action<DurableWorkflowsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(postgresConnectionString);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new DurableWorkflowsOptions();
        configure(options);

        var user = options.ToConfig().WithFallback(Akka.Configuration.ConfigurationFactory.ParseString(
            $"durable-actors.sql.connection-string = {DurableWorkflowsOptions.Quote(postgresConnectionString)}"));
        var storage = DurableCluster.PostgresStorage(user.WithFallback(DurableCluster.Defaults));
        var settings = DurableSettings.Create(user.WithFallback(DurableCluster.Defaults).WithFallback(storage));
        builder.AddHocon(user, HoconAddMode.Prepend);
        builder.AddHocon(DurableCluster.Defaults, HoconAddMode.Append);
        builder.AddHocon(storage, HoconAddMode.Append);
        builder.AddHocon(PersistencePlugins.ToConfig(settings), HoconAddMode.Append);
        builder.AddHocon(DurableSettings.Reference, HoconAddMode.Append);
        // The plugin's connection, filled at start from the system's final configuration, which the journal's writer and
        // the index read too: the HOCON above, computed before the application's own HOCON is known, is not the source.
        builder.AddSetup(PersistencePlugins.ToSetup());
        builder.AddSetup(DurableCluster.IndexSetup);
        AkkaHostingExtensions.RouteAkkaLogsToLoggerFactory(builder);
        builder.WithActors((system, registry, resolver) =>
        {
            EnsureGivenDatabase(system, postgresConnectionString);
            var services = resolver.GetService<IServiceProvider>();
            options.AddFromServices(services);
            var loggerFactory = services.GetService(typeof(ILoggerFactory)) as ILoggerFactory;
            registry.Register<WorkflowCoordinator>(DurableCluster.Start(system, options.Workflows, options.Observer, loggerFactory));
        });
        return builder;
    }

    /// <summary>
    /// Refuses a final configuration whose <c>durable-actors.sql.connection-string</c> is not the one given in code: HOCON
    /// the application put in front of ours (<c>AddHocon(..., HoconAddMode.Prepend)</c> after this call) would otherwise
    /// take the nodes to another database than the code names, silently. HOCON behind ours loses to the given string.
    /// </summary>
    private static void EnsureGivenDatabase(Akka.Actor.ActorSystem system, string given)
    {
        var configured = DurableSettings.Create(system).SqlConnectionString;
        if (Same(configured, given))
            return;
        throw new Akka.Configuration.ConfigurationException(
            $"durable-actors.sql.connection-string in the ActorSystem's HOCON ({Describe(configured)}) is not the connection string given to " +
            $"WithDurableWorkflowsCluster ({Describe(given)}): name the database in one place, or the same in both");
    }

    private static bool Same(string a, string b)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(a).EquivalentTo(new NpgsqlConnectionStringBuilder(b));
        }
        catch (ArgumentException)
        {
            return string.Equals(a, b, StringComparison.Ordinal);
        }
    }

    /// <summary>Where a connection string leads, without its password.</summary>
    private static string Describe(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return $"database {builder.Database} at {builder.Host}:{builder.Port.ToString(CultureInfo.InvariantCulture)}";
        }
        catch (ArgumentException)
        {
            return "not a PostgreSQL connection string";
        }
    }
}
