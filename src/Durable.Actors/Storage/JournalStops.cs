using System.Collections.Concurrent;
using Akka;
using Akka.Actor;

namespace Durable.Actors.Storage;

/// <summary>
/// The stops of one actor system's journal writers (SQLite's, PostgreSQL's): a journal's <c>PostStop</c> only starts
/// its writer's stop and hands it here, and <see cref="CoordinatedShutdown"/> awaits them all in its last phase, so a
/// graceful shutdown (<see cref="ActorSystem.Terminate"/>, which runs it, or a host stopping) still commits what was
/// queued before it returns, and no dispatcher thread waits for a commit.
/// </summary>
/// <remarks>
/// The task runs in <c>actor-system-terminate</c>, beside Akka's own that stops the actors: it waits for the system to
/// have terminated (the workflow actors stopped first, so nothing more is written), then for every stop started, each
/// bounded by its writer. An earlier phase would close the journal while local workflow actors still write: they stop
/// only when the system terminates. One extension per system, so that a journal restarted by its supervisor adds its
/// next writer's stop and no second task. Without <c>run-by-actor-system-terminate</c> (or with
/// <c>terminate-actor-system</c> off) nothing awaits the stops: the writers still commit what was queued, unless the
/// process exits first.
/// </remarks>
internal sealed class JournalStops : IExtension
{
    private readonly ConcurrentQueue<Task> _stops = new();

    private JournalStops(ExtendedActorSystem system)
    {
        if (!system.Settings.CoordinatedShutdownTerminateActorSystem)
            return;
        var shutdown = CoordinatedShutdown.Get(system);
        // A journal first created once the shutdown has begun: its writer's stop is not awaited (a later AddTask would
        // not run, or throws).
        if (shutdown.ShutdownReason is not null)
            return;
        try
        {
            shutdown.AddTask(CoordinatedShutdown.PhaseActorSystemTerminate, "durable-actors-journal-stop", async () =>
            {
                await system.WhenTerminated.ConfigureAwait(false);
                await Task.WhenAll(_stops).ConfigureAwait(false);
                return Done.Instance;
            });
        }
        catch (InvalidOperationException)
        {
            // The shutdown began between the check and AddTask.
        }
    }

    public static JournalStops Get(ActorSystem system) => system.WithExtension<JournalStops, Provider>();

    /// <summary>Keeps a writer's stop (a task bounded by the writer) for the shutdown to await.</summary>
    public void Add(Task stop) => _stops.Enqueue(stop);

    private sealed class Provider : ExtensionIdProvider<JournalStops>
    {
        public override JournalStops CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
