using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using Durable.Actors.Configuration;
using Durable.Actors.Journal;

namespace Durable.Actors.Storage;

/// <summary>
/// Akka.Persistence.Sql's journal with its hot paths replaced: writes go through <see cref="JournalWriter"/> (the writes
/// of every workflow actor that arrive while a commit is under way share the next transaction: group commit) and a
/// recovering actor's two reads through <see cref="JournalQueries"/>, both prepared statements on the plugin's own
/// <c>journal</c> and <c>tags</c> tables in its layout (the engine creates them: <see cref="SqliteDatabase"/>). The
/// plugin still serves the read journal (queries by tag and by persistence id) and deletes. Each workflow event's
/// change to the workflow index (<see cref="WorkflowIndex"/>) is computed here, from the event object, and committed
/// with the event.
/// </summary>
/// <remarks>
/// Tracks the table layout of Akka.Persistence.Sql 1.5.73 (SQLite, tag-write-mode TagTable, writer_uuid column):
/// every test reads what this writes through the plugin, so an upgrade that changes the layout fails them.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "An actor is never disposed: PostStop stops the writer and the queries.")]
internal sealed class SqliteWriteJournal : SqlWriteJournal
{
    private readonly JournalWriter _writer;
    private readonly JournalQueries _queries;
    private readonly Serialization _serialization;
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    private readonly InFlightWrites _inFlight = new();
    private readonly JournalStops _stops;

    public SqliteWriteJournal(Config config) : base(config)
    {
        var settings = DurableSettings.Create(Context.System);
        // Now, not in PostStop: the shutdown task must be added before the shutdown begins.
        _stops = JournalStops.Get(Context.System);
        _writer = new JournalWriter(settings.ConnectionString, settings.Synchronous, settings.BusyTimeout, StorageHooks.Of(Context.System));
        _queries = new JournalQueries(settings.ConnectionString, settings.BusyTimeout);
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
        foreach (var e in await _queries.EventsAsync(persistenceId, fromSequenceNr, toSequenceNr, max).ConfigureAwait(false))
        {
            var payload = _serialization.Deserialize(e.Message, e.Identifier, e.Manifest);
            recoveryCallback(new Persistent(
                payload, e.SequenceNr, persistenceId, e.Manifest, e.Deleted, ActorRefs.NoSender, e.WriterUuid, e.Created));
        }
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await _inFlight.EndedAsync(persistenceId).ConfigureAwait(false);
        return await _queries.HighestSequenceNrAsync(persistenceId, fromSequenceNr).ConfigureAwait(false);
    }

    protected override void PostStop()
    {
        // Starts the stops without waiting for them (a commit may wait for SQLite's lock up to the busy timeout, and this
        // runs on a dispatcher thread); the actor system's shutdown awaits them once it has terminated.
        _stops.Add(_writer.StopAsync());
        _stops.Add(_queries.StopAsync());
        base.PostStop();
    }
}
