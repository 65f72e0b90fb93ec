using Akka.Actor;

namespace Durable.Actors.Storage;

/// <summary>
/// The engine's write journal of one actor system (<see cref="EngineWriteJournal"/>: SQLite's, or PostgreSQL's in
/// cluster mode) as its workflow actors reach it: they hand their events to its <see cref="JournalWriter"/> themselves
/// (serialized on their own threads, one message back when durable) rather than through the journal actor's mailbox,
/// its circuit breaker and a reply per event. The journal attaches itself when it starts and detaches when it stops;
/// recovery, queries and deletes stay the plugin's.
/// </summary>
internal sealed class JournalAccess : IExtension
{
    private Attached? _current;

    /// <summary>What a workflow actor writes with: the writer, the in-flight writes the recovery reads wait for, the writer's id.</summary>
    public sealed record Attached(JournalWriter Writer, InFlightWrites InFlight, string WriterUuid);

    public static JournalAccess Get(ActorSystem system) => system.WithExtension<JournalAccess, Provider>();

    /// <summary>The journal's writer now; null when no engine journal runs (another plugin, or it stopped).</summary>
    public Attached? Current => Volatile.Read(ref _current);

    public void Attach(Attached journal) => Volatile.Write(ref _current, journal);

    /// <summary>Detaches <paramref name="journal"/> unless a later journal attached since.</summary>
    public void Detach(Attached journal) => Interlocked.CompareExchange(ref _current, null, journal);

    private sealed class Provider : ExtensionIdProvider<JournalAccess>
    {
        public override JournalAccess CreateExtension(ExtendedActorSystem system) => new();
    }
}
