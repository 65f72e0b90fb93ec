using Akka.Actor;
using Durable.Actors.Storage;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>A TestKit whose ActorSystem runs the engine on a real SQLite file in its own temp folder.</summary>
public abstract class EngineSpec : Akka.TestKit.Xunit2.TestKit
{
    protected EngineSpec(ITestOutputHelper output, string? extraHocon = null) : this(new TempFolder(), new StorageHooks(), output, extraHocon) { }

    private EngineSpec(TempFolder folder, StorageHooks hooks, ITestOutputHelper output, string? extraHocon)
        : base(DurableWorkflows.CreateSetup(Engine.Config(folder.Database, extraHocon)).And(hooks), "spec", output)
    {
        Folder = folder;
        Hooks = hooks;
    }

    protected TempFolder Folder { get; }

    /// <summary>The storage's test hooks of this spec's ActorSystem (none set until a test sets one).</summary>
    internal StorageHooks Hooks { get; }

    protected static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    protected IActorRef StartEngine(WorkflowRegistry registry, IWorkflowObserver? observer = null, TimeProvider? clock = null) =>
        DurableWorkflows.Start(Sys, registry, observer, clock ?? TimeProvider.System);

    protected override void AfterAll()
    {
        base.AfterAll();
        Folder.Dispose();
    }
}
