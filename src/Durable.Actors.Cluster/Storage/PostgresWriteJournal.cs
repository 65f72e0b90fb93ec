using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Durable.Actors.Configuration;
using Durable.Actors.Storage;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// Akka.Persistence.Sql's journal on PostgreSQL with its write path replaced: writes go through
/// <see cref="PostgresJournalWriter"/> (group commit: the writes of every workflow actor of this node that arrive while a
/// commit is under way share the next transaction, one round trip), into the plugin's own <c>journal</c> and <c>tags</c>
/// tables in its layout (<see cref="PostgresSchema"/>, which creates them), each workflow event's change to the workflow
/// index committed with the event. Replay, the highest sequence number, queries and deletes stay the plugin's.
/// </summary>
/// <remarks>
/// The unique <c>(persistence_id, sequence_number)</c> stays the fence of cluster mode: a second incarnation of a
/// workflow writing a sequence number the first one wrote fails that write alone, and its actor stops.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "An actor is never disposed: PostStop stops the writer.")]
internal sealed class PostgresWriteJournal : SqlWriteJournal
{
    private readonly PostgresJournalWriter _writer;
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    private readonly InFlightWrites _inFlight = new();
    private readonly JournalStops _stops;

    // auto-initialize off: the writer creates the tables (under an advisory lock, with the index) before its first write.
    public PostgresWriteJournal(Config config) : base(ConfigurationFactory.ParseString("auto-initialize = off").WithFallback(config))
    {
        _writer = new PostgresJournalWriter(DurableSettings.Create(Context.System).SqlConnectionString);
        // Now, not in PostStop: the shutdown task must be added before the shutdown begins.
        _stops = JournalStops.Get(Context.System);
        _serialization = Context.System.Serialization;
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var rows = JournalRows.From(_serialization, writes, _writerUuid, out var rejected);
        var persistenceId = writes[0].PersistenceId;
        var written = rows.Count == 0 ? Task.CompletedTask : _writer.WriteAsync(rows);
        _inFlight.Track(persistenceId, written);
        return JournalRows.Finish(written, rejected);
    }

    public override async Task ReplayMessagesAsync(
        IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        await _writer.SchemaReadyAsync().ConfigureAwait(false);
        await base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback).ConfigureAwait(false);
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await _writer.SchemaReadyAsync().ConfigureAwait(false);
        await _inFlight.EndedAsync(persistenceId).ConfigureAwait(false);
        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    protected override void PostStop()
    {
        // Starts the stop without waiting for it (up to 30 s with PostgreSQL unreachable, and this runs on a dispatcher
        // thread); the actor system's shutdown awaits it once it has terminated.
        _stops.Add(_writer.StopAsync());
        base.PostStop();
    }
}
