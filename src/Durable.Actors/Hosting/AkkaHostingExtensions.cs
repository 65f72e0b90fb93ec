using Akka.Hosting;
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
        builder.WithActors((system, registry) =>
            registry.Register<WorkflowCoordinator>(DurableWorkflows.Start(system, options.Workflows, options.Observer)));
        return builder;
    }
}

/// <summary>The key of the workflow coordinator in Akka.Hosting's ActorRegistry: inject <c>IRequiredActor&lt;WorkflowCoordinator&gt;</c>.</summary>
public sealed class WorkflowCoordinator
{
    private WorkflowCoordinator() { }
}
