using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Storage;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>Builds engine configuration and hosts on a real SQLite file.</summary>
public static class Engine
{
    public static Config Config(string database, string? extraHocon = null) => ConfigurationFactory.ParseString($"""
        durable-actors.database-path = "{database.Replace("\\", "\\\\")}"
        {extraHocon}
        """);

    /// <summary>A plain ActorSystem running the engine on <paramref name="database"/>; terminate it to simulate a stop.</summary>
    public static (ActorSystem System, IActorRef Coordinator) Start(
        string database, WorkflowRegistry registry, IWorkflowObserver? observer = null, string? extraHocon = null, TimeProvider? clock = null)
        => Start(database, new StorageHooks(), registry, observer, extraHocon, clock);

    /// <summary>As <c>Start</c>, with test hooks (<see cref="StorageHooks"/>, <see cref="Advanced.EngineHooks"/>) in the system's setup.</summary>
    internal static (ActorSystem System, IActorRef Coordinator) Start(
        string database, Akka.Actor.Setup.Setup hooks, WorkflowRegistry registry, IWorkflowObserver? observer = null, string? extraHocon = null, TimeProvider? clock = null)
    {
        var system = ActorSystem.Create("engine", DurableWorkflows.CreateSetup(Config(database, extraHocon)).And(hooks));
        return (system, DurableWorkflows.Start(system, registry, observer, clock ?? TimeProvider.System));
    }

    /// <summary>
    /// Whether the journal holds step <paramref name="stepId"/> of <paramref name="workflowId"/> as completed: its body
    /// ran and its completion is durable (a body's effect alone says nothing of the record, written a moment later).
    /// </summary>
    public static async Task<bool> StepCompletedAsync(ActorSystem system, string workflowId, string stepId) =>
        (await DurableWorkflows.GetStatusAsync(system, workflowId))?.Steps.Any(s => s.StepId == stepId && s.Status == StepStatus.Completed) == true;
}

/// <summary>Collects step reports; tests read them after a run ends.</summary>
public sealed class RecordingObserver : IWorkflowObserver
{
    private readonly List<StepReport> _reports = [];
    private readonly Lock _gate = new();

    public Action<StepReport>? OnReport { get; set; }

    public IReadOnlyList<StepReport> Reports
    {
        get
        {
            lock (_gate)
                return _reports.ToList();
        }
    }

    public void OnStep(StepReport report)
    {
        lock (_gate)
            _reports.Add(report);
        OnReport?.Invoke(report);
    }
}
