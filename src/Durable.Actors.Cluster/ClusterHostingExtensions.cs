using Akka.Hosting;
using Durable.Actors.Configuration;
using Microsoft.Extensions.Logging;

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
        AkkaHostingExtensions.RouteAkkaLogsToLoggerFactory(builder);
        builder.WithActors((system, registry, resolver) =>
        {
            var services = resolver.GetService<IServiceProvider>();
            options.AddFromServices(services);
            var loggerFactory = services.GetService(typeof(ILoggerFactory)) as ILoggerFactory;
            registry.Register<WorkflowCoordinator>(DurableCluster.Start(system, options.Workflows, options.Observer, loggerFactory));
        });
        return builder;
    }
}
