using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;

namespace Durable.Actors.Storage;

/// <summary>
/// Akka.Persistence.Sql's journal with its write path replaced by the engine's <see cref="JournalWriter"/>: the writes
/// of every workflow actor that arrive while a commit is under way share the next transaction (group commit), into the
/// plugin's own <c>journal</c> and <c>tags</c> tables in its layout, each workflow event's change to the workflow index
/// (<see cref="Journal.WorkflowIndex"/>) committed with the event. A database's journal is this with its
/// <see cref="IJournalStore"/> and, where it reads faster than the plugin, its recovery reads:
/// <see cref="SqliteWriteJournal"/>, and PostgreSQL's in Durable.Actors.Cluster.
/// </summary>
/// <remarks>
/// The unique <c>(persistence_id, sequence_number)</c> of the journal table is the fence: a second incarnation of a
/// workflow writing a sequence number the first one wrote fails that write alone, and its actor stops.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "An actor is never disposed: PostStop stops the writer.")]
internal abstract class EngineWriteJournal : SqlWriteJournal
{
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    private readonly InFlightWrites _inFlight = new();
    private readonly JournalStops _stops;
    private readonly JournalAccess.Attached _attached;

    protected EngineWriteJournal(Config config, JournalWriter writer) : base(config)
    {
        Writer = writer;
        // Now, not in PostStop: the shutdown task must be added before the shutdown begins.
        _stops = JournalStops.Get(Context.System);
        _serialization = Context.System.Serialization;
        // The workflow actors write through the writer themselves (JournalAccess); this actor's write path below
        // serves any other persistent actor on this journal.
        _attached = new JournalAccess.Attached(writer, _inFlight, _writerUuid);
        JournalAccess.Get(Context.System).Attach(_attached);
    }

    /// <summary>This journal's writer.</summary>
    protected JournalWriter Writer { get; }

    /// <summary>The system's serialization, which the journal's rows are written and read with.</summary>
    protected Akka.Serialization.Serialization Serialization => _serialization;

    protected sealed override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var rows = JournalRows.From(_serialization, writes, _writerUuid, out var rejected);
        var persistenceId = writes[0].PersistenceId;
        var written = rows.Count == 0 ? Task.CompletedTask : Writer.WriteAsync(rows);
        _inFlight.Track(persistenceId, written);
        return JournalRows.Finish(written, rejected);
    }

    /// <summary>Ends once the latest write of <paramref name="persistenceId"/> has ended: its highest sequence number is read after it.</summary>
    protected Task WritesEndedAsync(string persistenceId) => _inFlight.EndedAsync(persistenceId);

    /// <summary>Stops what the journal opened besides its writer, without waiting (see <see cref="JournalStops"/>).</summary>
    protected virtual void Stopping(JournalStops stops)
    {
    }

    protected override void PostStop()
    {
        // Starts the stops without waiting for them (a commit may wait for its database up to a bound, and this runs on a
        // dispatcher thread); the actor system's shutdown awaits them once it has terminated.
        JournalAccess.Get(Context.System).Detach(_attached);
        _stops.Add(Writer.StopAsync());
        Stopping(_stops);
        base.PostStop();
    }
}
