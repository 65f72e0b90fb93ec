using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;
using Durable.Actors.Storage;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// The engine's journal on PostgreSQL (cluster mode): writes through <see cref="PostgresJournalStore"/>, into the
/// plugin's tables in its layout (<see cref="PostgresSchema"/>, which creates them before the first read or write).
/// Replay, the highest sequence number, queries and deletes stay the plugin's.
/// </summary>
internal sealed class PostgresWriteJournal : EngineWriteJournal
{
    private readonly PostgresJournalStore _store;

    // auto-initialize off: the store creates the tables (under an advisory lock, with the index) before its first write.
    public PostgresWriteJournal(Config config) : this(config, PostgresJournalStore.Writer(
        DurableSettings.Create(Context.System).SqlConnectionString, EngineHooks.Of(Context.System)?.WriteGate))
    {
    }

    private PostgresWriteJournal(Config config, (JournalWriter Writer, PostgresJournalStore Store) storage)
        : base(ConfigurationFactory.ParseString("auto-initialize = off").WithFallback(config), storage.Writer) =>
        _store = storage.Store;

    public override async Task ReplayMessagesAsync(
        IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        await _store.SchemaReadyAsync().ConfigureAwait(false);
        await base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback).ConfigureAwait(false);
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        await _store.SchemaReadyAsync().ConfigureAwait(false);
        await WritesEndedAsync(persistenceId).ConfigureAwait(false);
        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken).ConfigureAwait(false);
    }
}
