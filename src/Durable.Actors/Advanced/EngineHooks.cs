using Akka.Actor;
using Akka.Actor.Setup;

namespace Durable.Actors.Advanced;

/// <summary>
/// What a test harness hooks into one host's engine, given with the ActorSystem's setup
/// (<c>DurableWorkflows.CreateSetup(config).And(new EngineHooks { ... })</c>) before the engine starts. A host never
/// needs it; the test kit (Durable.Actors.Testing) is built on it.
/// </summary>
public sealed class EngineHooks : Setup
{
    /// <summary>
    /// The clock the engine reads (timers, deadlines, stale timeouts, schedules, records' times); the system's when
    /// null. Read when the engine starts: <see cref="DurableWorkflows.Start(Akka.Actor.ActorSystem, WorkflowRegistry, IWorkflowObserver?)"/>,
    /// the Akka.Hosting extension, or a cluster node.
    /// </summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>
    /// Called on the run's thread right before a step's body runs (its IN_PROGRESS record is durable), in the body's
    /// execution context (an <see cref="AsyncLocal{T}"/> set here flows into the body); an exception thrown here is
    /// the body's.
    /// </summary>
    public Action<StepReport>? StepBodyStarting { get; init; }

    /// <summary>Called when a step's body returned (true) or threw (false), before its record is handed to the engine.</summary>
    public Action<StepReport, bool>? StepBodyEnded { get; init; }

    /// <summary>Asked before each write of the engine's journal reaches the database, and told how each ended.</summary>
    public IJournalWriteGate? WriteGate { get; init; }

    internal static EngineHooks? Of(ActorSystem system) =>
        system.Settings.Setup.Get<EngineHooks>() is { HasValue: true } hooks ? hooks.Value : null;

    internal static TimeProvider ClockOf(ActorSystem system) => Of(system)?.Clock ?? TimeProvider.System;
}

/// <summary>
/// Sees every write of the engine's journal (SQLite's or PostgreSQL's) of one host, on the journal's writer thread,
/// in the order the writes are committed: it may refuse one (a simulated crash), and it is told when each admitted
/// write was committed or failed. Keep both calls short: the host's writes wait on them.
/// </summary>
public interface IJournalWriteGate
{
    /// <summary>Before the write's transaction: false fails the write, and nothing of it reaches the database.</summary>
    bool Admit(JournalWrite write);

    /// <summary>Once an admitted write was committed (<paramref name="committed"/>) or failed.</summary>
    void Ended(JournalWrite write, bool committed);
}
