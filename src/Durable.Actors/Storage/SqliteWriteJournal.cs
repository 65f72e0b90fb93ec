using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;

namespace Durable.Actors.Storage;

/// <summary>
/// The engine's journal on its SQLite file: writes through <see cref="SqliteJournalStore"/>, and a recovering actor's
/// two reads through <see cref="JournalQueries"/>, prepared statements on the plugin's own <c>journal</c> and
/// <c>tags</c> tables (the engine creates them: <see cref="SqliteDatabase"/>). The plugin still serves the read journal
/// (queries by tag and by persistence id) and deletes.
/// </summary>
/// <remarks>
/// Tracks the table layout of Akka.Persistence.Sql 1.5.73 (SQLite, tag-write-mode TagTable, writer_uuid column):
/// every test reads what this writes through the plugin, so an upgrade that changes the layout fails them.
/// </remarks>
internal sealed class SqliteWriteJournal : EngineWriteJournal
{
    private readonly JournalQueries _queries;

    public SqliteWriteJournal(Config config) : base(config, NewWriter(DurableSettings.Create(Context.System)))
    {
        var settings = DurableSettings.Create(Context.System);
        _queries = new JournalQueries(settings.ConnectionString, settings.BusyTimeout);
    }

    private static JournalWriter NewWriter(DurableSettings settings) =>
        SqliteJournalStore.Writer(settings.ConnectionString, settings.Synchronous, settings.BusyTimeout,
            StorageHooks.Of(Context.System), EngineHooks.Of(Context.System)?.WriteGate);

    public override async Task ReplayMessagesAsync(
        IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        foreach (var e in await _queries.EventsAsync(persistenceId, fromSequenceNr, toSequenceNr, max).ConfigureAwait(false))
        {
            var payload = Serialization.Deserialize(e.Message, e.Identifier, e.Manifest);
            recoveryCallback(new Persistent(
                payload, e.SequenceNr, persistenceId, e.Manifest, e.Deleted, ActorRefs.NoSender, e.WriterUuid, e.Created));
        }
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await WritesEndedAsync(persistenceId).ConfigureAwait(false);
        return await _queries.HighestSequenceNrAsync(persistenceId, fromSequenceNr).ConfigureAwait(false);
    }

    protected override void Stopping(JournalStops stops) => stops.Add(_queries.StopAsync());
}
