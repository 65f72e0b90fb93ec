using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;

namespace Durable.Actors;

/// <summary>Registers the engine with Akka.Hosting.</summary>
public static class AkkaHostingExtensions
{
    /// <summary>
    /// Adds the engine: its configuration, the SQLite persistence plugins and the workflow coordinator, which is
    /// registered in the ActorRegistry as <see cref="WorkflowCoordinator"/> (inject <c>IRequiredActor&lt;WorkflowCoordinator&gt;</c>).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Registers workflow types and sets options.</param>
    /// <returns>The same AkkaConfigurationBuilder instance originally passed in.</returns>
    public static AkkaConfigurationBuilder WithDurableWorkflows(this AkkaConfigurationBuilder builder, Action<DurableWorkflowsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new DurableWorkflowsOptions();
        configure(options);

        var user = options.ToConfig();
        var settings = DurableSettings.Create(user);
        builder.AddHocon(user, HoconAddMode.Prepend);
        builder.AddHocon(PersistencePlugins.ToConfig(settings), HoconAddMode.Append);
        builder.AddHocon(DurableSettings.Reference, HoconAddMode.Append);
        // Filled at start from the system's final configuration, which may set durable-actors keys of its own.
        builder.AddSetup(PersistencePlugins.ToSetup());
        RouteAkkaLogsToLoggerFactory(builder);
        builder.WithActors((system, registry, resolver) =>
        {
            var services = resolver.GetService<IServiceProvider>();
            options.AddFromServices(services);
            var loggerFactory = services.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) as Microsoft.Extensions.Logging.ILoggerFactory;
            registry.Register<WorkflowCoordinator>(DurableWorkflows.Start(system, options.Workflows, options.Observer, EngineHooks.ClockOf(system), hooks: null, loggerFactory));
        });
        return builder;
    }

    /// <summary>
    /// Sends Akka's log events to the host's <c>ILoggerFactory</c>, so they follow the application's logging
    /// configuration (levels, providers) instead of going to stdout through Akka's default logger. Leaves alone an
    /// application that configured <c>akka.loggers</c> before this call; a later <c>ConfigureLoggers</c> overrides it.
    /// Keeps an <c>akka.loglevel</c> already configured.
    /// </summary>
    internal static void RouteAkkaLogsToLoggerFactory(AkkaConfigurationBuilder builder)
    {
        var configured = builder.Configuration.GetOrElse(Config.Empty);
        if (configured.HasPath("akka.loggers"))
            return;
        var level = LogLevel.InfoLevel;
        if (configured.HasPath("akka.loglevel"))
        {
            var text = configured.GetString("akka.loglevel").ToUpperInvariant();
            // OFF (or a level ConfigureLoggers cannot write): the application's logging choice stays as it is.
            if (text is not ("DEBUG" or "INFO" or "WARNING" or "ERROR"))
                return;
            level = Logging.LogLevelFor(text);
        }
        builder.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = level;
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        });
    }
}

/// <summary>The key of the workflow coordinator in Akka.Hosting's ActorRegistry: inject <c>IRequiredActor&lt;WorkflowCoordinator&gt;</c>.</summary>
public sealed class WorkflowCoordinator
{
    private WorkflowCoordinator() { }
}
