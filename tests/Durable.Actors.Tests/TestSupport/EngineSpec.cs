using Akka.Actor;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>A TestKit whose ActorSystem runs the engine on a real SQLite file in its own temp folder.</summary>
public abstract class EngineSpec : Akka.TestKit.Xunit2.TestKit
{
    protected EngineSpec(ITestOutputHelper output, string? extraHocon = null) : this(new TempFolder(), output, extraHocon) { }

    private EngineSpec(TempFolder folder, ITestOutputHelper output, string? extraHocon)
        : base(DurableWorkflows.CreateSetup(Engine.Config(folder.Database, extraHocon)), "spec", output) => Folder = folder;

    protected TempFolder Folder { get; }

    protected static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    protected IActorRef StartEngine(WorkflowRegistry registry, IWorkflowObserver? observer = null, TimeProvider? clock = null) =>
        DurableWorkflows.Start(Sys, registry, observer, clock ?? TimeProvider.System);

    protected override void AfterAll()
    {
        base.AfterAll();
        Folder.Dispose();
    }
}
