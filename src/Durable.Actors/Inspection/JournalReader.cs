using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Durable.Actors.Configuration;
using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;

namespace Durable.Actors.Inspection;

/// <summary>Folds workflows' journal events read through the read journal, the one source of truth for status and history.</summary>
internal static class JournalReader
{
    public static async Task<WorkflowStatus?> GetStatusAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        var journal = await ReadAsync(system, ReadJournal(system), WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken)
            .ConfigureAwait(false);
        return journal.Exists ? journal.ToStatus(workflowId) : null;
    }

    /// <summary>The type and input a workflow was first started with; null when the id is unknown.</summary>
    public static async Task<(string WorkflowType, string InputJson)?> GetRecordedStartAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        var journal = await ReadAsync(system, ReadJournal(system), WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken)
            .ConfigureAwait(false);
        return journal.Exists ? (journal.WorkflowType!, journal.InputJson) : null;
    }

    public static async Task<IReadOnlyList<WorkflowStatus>> ListAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        var readJournal = ReadJournal(system);
        var ids = await readJournal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
            .RunWith(Sink.Seq<string>(), system.Materializer())
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);

        var statuses = new List<WorkflowStatus>();
        foreach (var persistenceId in ids.Order(StringComparer.Ordinal))
        {
            var journal = await ReadAsync(system, readJournal, persistenceId, cancellationToken).ConfigureAwait(false);
            if (journal.Exists)
                statuses.Add(journal.ToStatus(persistenceId[WorkflowActor.PersistenceIdPrefix.Length..]));
        }
        return statuses;
    }

    /// <summary>Workflows started and neither completed nor failed, found from their tagged lifecycle events alone.</summary>
    public static async Task<IReadOnlyList<string>> GetPendingAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        var last = new Dictionary<string, object>(StringComparer.Ordinal);
        var settings = PersistencePlugins.Bind(system);
        if (settings.JournalPluginId == PersistencePlugins.JournalPath && settings.QueryPluginId == PersistencePlugins.QueryPath)
        {
            // The engine's own SQLite journal: one indexed query instead of the read journal's polling stream, which
            // waits for its sequence actor and costs a host start that recovers many workflows most of its time.
            var tagged = await Task.Run(
                () => JournalQueries.EventsByTag(settings.ConnectionString, settings.BusyTimeout, LifecycleTag.Name), cancellationToken)
                .ConfigureAwait(false);
            foreach (var e in tagged)
                last[e.PersistenceId] = system.Serialization.Deserialize(e.Message, e.Identifier, e.Manifest);
        }
        else
        {
            await ReadJournal(system).CurrentEventsByTag(LifecycleTag.Name, Offset.NoOffset())
                .RunForeach(envelope => last[envelope.PersistenceId] = envelope.Event, system.Materializer())
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false);
        }
        return last
            .Where(e => e.Value is WorkflowStarted or RunResumed)
            .Select(e => e.Key[WorkflowActor.PersistenceIdPrefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static SqlReadJournal ReadJournal(ActorSystem system) =>
        PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(PersistencePlugins.Bind(system).QueryPluginId);

    private static async Task<WorkflowJournal> ReadAsync(ActorSystem system, SqlReadJournal readJournal, string persistenceId, CancellationToken cancellationToken)
    {
        var journal = new WorkflowJournal();
        await readJournal.CurrentEventsByPersistenceId(persistenceId, 0, long.MaxValue)
            .RunForeach(envelope => journal.Apply((IJournalEvent)envelope.Event), system.Materializer())
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        return journal;
    }
}
