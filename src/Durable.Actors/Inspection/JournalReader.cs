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

/// <summary>
/// Reads workflows from the journal, the one source of truth for status and history. On the engine's own SQLite
/// journal one workflow's events are read with one indexed query. Listing, counts and recovery read the workflow index
/// where the journal keeps one (<see cref="IWorkflowIndexSource"/>: SQLite's, or PostgreSQL's in cluster mode); on
/// another journal plugin everything goes through Akka.Persistence.Query.
/// </summary>
internal static class JournalReader
{
    private static void Reading(ActorSystem system, string what, string workflowId) =>
        StorageHooks.Of(system)?.WorkflowReads?.Invoke(what, workflowId);

    /// <summary>
    /// Whether the workflow has ended, from its index row alone (one read by primary key, whatever the length of its
    /// journal): true when the row is not running (nor paused or enqueued), false when it is or no row has the id; null on a journal
    /// that keeps no index (read the workflow's events instead).
    /// </summary>
    public static async Task<bool?> HasEndedAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        if (WorkflowIndexSources.For(system) is not { } index)
            return null;
        Reading(system, "index", workflowId);
        var row = await index.RowAsync(workflowId, cancellationToken).ConfigureAwait(false);
        return row is not null && row.Status != WorkflowIndex.StatusText(WorkflowRunStatus.Running)
            && row.Status != WorkflowIndex.StatusText(WorkflowRunStatus.Paused) && row.Status != WorkflowIndex.StatusText(WorkflowRunStatus.Enqueued);
    }

    public static async Task<WorkflowStatus?> GetStatusAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        var journal = await ReadAsync(system, WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken).ConfigureAwait(false);
        return journal.Exists ? journal.ToStatus(workflowId) : null;
    }

    /// <summary>The type and input a workflow was first started with; null when the id is unknown.</summary>
    public static async Task<(string WorkflowType, string InputJson)?> GetRecordedStartAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        var journal = await ReadAsync(system, WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken).ConfigureAwait(false);
        return journal.Exists ? (journal.WorkflowType!, journal.InputJson) : null;
    }

    /// <summary>Every workflow with its steps, ordered by id: one read per workflow.</summary>
    public static async Task<IReadOnlyList<WorkflowStatus>> ListAllAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        IEnumerable<string> ids;
        if (WorkflowIndexSources.For(system) is { } index)
        {
            ids = await index.IdsAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            ids = (await ReadJournal(system).CurrentPersistenceIds()
                .Where(id => id.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
                .RunWith(Sink.Seq<string>(), system.Materializer())
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false)).Select(id => id[WorkflowActor.PersistenceIdPrefix.Length..]);
        }

        var statuses = new List<WorkflowStatus>();
        foreach (var id in ids.Order(StringComparer.Ordinal))
        {
            if (await GetStatusAsync(system, id, cancellationToken).ConfigureAwait(false) is { } status)
                statuses.Add(status);
        }
        return statuses;
    }

    /// <summary>The recorded result of each completed workflow of <paramref name="workflowIds"/>: on the engine's journal, its last row only.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> GetResultsAsync(
        ActorSystem system, IEnumerable<string> workflowIds, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        if (EngineJournal(system) is { } settings)
        {
            var ids = workflowIds.ToList();
            var last = await Task.Run(
                () => JournalQueries.LastEvents(settings.ConnectionString, settings.BusyTimeout, ids.Select(id => WorkflowActor.PersistenceIdPrefix + id)),
                cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < ids.Count; i++)
            {
                if (last[i] is { } e && system.Serialization.Deserialize(e.Message, e.Identifier, e.Manifest) is RunCompleted completed)
                    results[ids[i]] = completed.ResultJson;
            }
            return results;
        }
        foreach (var id in workflowIds)
        {
            if (await GetStatusAsync(system, id, cancellationToken).ConfigureAwait(false) is { ResultJson: { } result })
                results[id] = result;
        }
        return results;
    }

    /// <summary>Throws when <paramref name="query"/> cannot be run: a limit out of range, a cursor that is not one.</summary>
    public static (long StartedTicks, string WorkflowId)? Validate(WorkflowQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > WorkflowQuery.MaxLimit)
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"The limit must be from 1 to {WorkflowQuery.MaxLimit}, not {query.Limit}.");
        if (query.After is null)
            return null;
        if (!WorkflowCursor.TryDecode(query.After, out var position))
            throw new ArgumentException($"'{query.After}' is not a cursor of a workflow list (pass a page's NextCursor as it is).", nameof(query));
        return position;
    }

    /// <summary>
    /// At most <paramref name="limit"/> ids of the workflows of <paramref name="status"/> that ended before
    /// <paramref name="before"/>, oldest first (the retention sweep's); from a page of <see cref="ListAsync"/> on a journal
    /// that keeps no index.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ExpiredAsync(
        ActorSystem system, WorkflowRunStatus status, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        Reading(system, "list", WorkflowIndex.StatusText(status));
        if (WorkflowIndexSources.For(system) is { } index)
            return await index.ExpiredAsync(status, before, limit, cancellationToken).ConfigureAwait(false);
        var page = await ListAsync(system, new WorkflowQuery { Status = status, EndedBefore = before, Limit = limit }, cancellationToken).ConfigureAwait(false);
        return page.Items.Select(w => w.WorkflowId).ToList();
    }

    /// <summary>One page of the workflow index, newest first.</summary>
    public static async Task<WorkflowPage> ListAsync(ActorSystem system, WorkflowQuery query, CancellationToken cancellationToken)
    {
        var after = Validate(query);
        var status = query.Status is { } s ? WorkflowIndex.StatusText(s) : null;
        Reading(system, "list", status ?? "");
        List<WorkflowIndexRow> rows;
        bool more;
        if (WorkflowIndexSources.For(system) is { } index)
        {
            (rows, more) = await index.PageAsync(query, after, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Another journal plugin has no index: every workflow's events are folded through the same fold, then
            // filtered and paged here. Correct, and as slow as reading the whole journal.
            var all = new List<WorkflowIndexRow>();
            var readJournal = ReadJournal(system);
            var ids = await readJournal.CurrentPersistenceIds()
                .Where(id => id.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal))
                .RunWith(Sink.Seq<string>(), system.Materializer())
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false);
            foreach (var persistenceId in ids)
            {
                var workflowId = persistenceId[WorkflowActor.PersistenceIdPrefix.Length..];
                WorkflowIndexRow? row = null;
                var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
                await readJournal.CurrentEventsByPersistenceId(persistenceId, 0, long.MaxValue)
                    .RunForeach(envelope =>
                    {
                        row = WorkflowIndex.Apply(row, workflowId, (IJournalEvent)envelope.Event);
                        WorkflowIndex.ApplyAttributes(attributes, (IJournalEvent)envelope.Event);
                    }, system.Materializer())
                    .WaitAsync(cancellationToken)
                    .ConfigureAwait(false);
                if (row is not null && (status is null || row.Status == status) && (query.Type is null || row.WorkflowType == query.Type)
                    && (string.IsNullOrEmpty(query.IdPrefix) || row.WorkflowId.StartsWith(query.IdPrefix, StringComparison.Ordinal))
                    && (query.EndedBefore is not { } endedBefore || row.EndedAt < endedBefore)
                    && (query.Attributes ?? []).All(filter => filter.Matches(attributes))
                    && (after is not var (ticks, id) || row.CreatedAt.UtcTicks < ticks
                        || row.CreatedAt.UtcTicks == ticks && string.CompareOrdinal(row.WorkflowId, id) < 0))
                    all.Add(row);
            }
            all.Sort((a, b) => b.CreatedAt.UtcTicks != a.CreatedAt.UtcTicks
                ? b.CreatedAt.UtcTicks.CompareTo(a.CreatedAt.UtcTicks)
                : string.CompareOrdinal(b.WorkflowId, a.WorkflowId));
            more = all.Count > query.Limit;
            rows = all.Take(query.Limit).ToList();
        }

        return Page(rows, more);
    }

    /// <summary>A page of index rows, with the cursor of the next one when <paramref name="more"/> follow.</summary>
    internal static WorkflowPage Page(List<WorkflowIndexRow> rows, bool more)
    {
        var items = rows.Select(Summary).ToList();
        return new WorkflowPage(items, more ? WorkflowCursor.Encode(items[^1].StartedAt, items[^1].WorkflowId) : null);
    }

    /// <summary>How many workflows have each status, from the workflow index; null on a journal that keeps no index.</summary>
    public static async Task<IReadOnlyDictionary<WorkflowRunStatus, long>?> CountByStatusAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        if (WorkflowIndexSources.For(system) is not { } index)
            return null;
        var counts = await index.CountByStatusAsync(cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<WorkflowRunStatus, long>();
        foreach (var (text, count) in counts)
        {
            if (WorkflowIndex.TryParseStatus(text, out var status))
                result[status] = count;
        }
        return result;
    }

    /// <summary>One workflow's status with what the status leaves out: its input, when each of its runs started, its durable waits; null when the id is unknown.</summary>
    public static async Task<WorkflowDetail?> GetDetailAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken)
    {
        var journal = await ReadAsync(system, WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken).ConfigureAwait(false);
        return journal.Exists ? new WorkflowDetail(journal.ToStatus(workflowId), journal.InputJson, journal.RunStarts.ToList(), journal.ParentId) { Waits = journal.Waits() } : null;
    }

    private static WorkflowSummary Summary(WorkflowIndexRow row) => new(
        row.WorkflowId,
        row.WorkflowType,
        WorkflowIndex.TryParseStatus(row.Status, out var status)
            ? status
            : throw new InvalidOperationException(
                $"Workflow '{row.WorkflowId}' has status '{row.Status}' in the workflow index, unknown to this version: was it written by a newer Durable.Actors?"),
        row.CreatedAt,
        row.UpdatedAt,
        row.EndedAt,
        row.Error,
        row.StepCount,
        row.CompletedSteps,
        row.FailedAttempts);

    /// <summary>The settings when the engine's own SQLite journal (and its query plugin) is in use; null for another plugin.</summary>
    private static DurableSettings? EngineJournal(ActorSystem system)
    {
        var settings = PersistencePlugins.Bind(system);
        return settings.UsesEngineSqlite && settings.QueryPluginId == PersistencePlugins.QueryPath
            ? settings
            : null;
    }

    /// <summary>
    /// What a starting host (or a cluster bucket: <paramref name="partition"/>) recovers: every running workflow, with
    /// when it is due. From the workflow index where the journal keeps one: a workflow whose top-level code waits is due
    /// when its wait is (never by time for a signal or a child, which wake it themselves), the others now; a bucket may
    /// get only its own ids. On a journal without an index, every running workflow now, found from the whole journal.
    /// </summary>
    public static async Task<IReadOnlyList<(string WorkflowId, DateTimeOffset? WakeAt)>> GetRecoveryAsync(
        ActorSystem system, RecoveryPartition? partition, CancellationToken cancellationToken)
    {
        if (WorkflowIndexSources.For(system) is { } index)
            return await index.RunningAsync(partition, cancellationToken).ConfigureAwait(false);
        return (await GetPendingAsync(system, cancellationToken).ConfigureAwait(false)).Select(id => (id, (DateTimeOffset?)null)).ToList();
    }

    /// <summary>Workflows started and neither completed nor failed, found from their tagged lifecycle events alone.</summary>
    public static async Task<IReadOnlyList<string>> GetPendingAsync(ActorSystem system, CancellationToken cancellationToken)
    {
        var engine = EngineJournal(system);
        if (engine is null && WorkflowIndexSources.For(system) is { } index)
        {
            // Another database's index: its running rows are the workflows whose last lifecycle event is a start or a resume.
            return (await index.RunningAsync(null, cancellationToken).ConfigureAwait(false))
                .Select(w => w.WorkflowId).Order(StringComparer.Ordinal).ToList();
        }
        var last = new Dictionary<string, object>(StringComparer.Ordinal);
        if (engine is { } settings)
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

    /// <summary>One workflow's events folded.</summary>
    private static async Task<WorkflowJournal> ReadAsync(ActorSystem system, string persistenceId, CancellationToken cancellationToken)
    {
        var journal = new WorkflowJournal();
        foreach (var e in await EventsAsync(system, persistenceId, cancellationToken).ConfigureAwait(false))
            journal.Apply(e);
        return journal;
    }

    /// <summary>A workflow's events in journal order (none for an unknown id), as a fork carries them.</summary>
    public static Task<IReadOnlyList<IJournalEvent>> GetEventsAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken) =>
        EventsAsync(system, WorkflowActor.PersistenceIdPrefix + workflowId, cancellationToken);

    /// <summary>Whether the journal holds an event of <paramref name="persistenceId"/> after sequence number <paramref name="seen"/> (another host or node wrote it).</summary>
    public static async Task<bool> WrittenSinceAsync(ActorSystem system, string persistenceId, long seen, CancellationToken cancellationToken)
    {
        if (EngineJournal(system) is { } settings)
            return await Task.Run(() => JournalQueries.HighestSequenceNr(settings.ConnectionString, settings.BusyTimeout, persistenceId) > seen, cancellationToken)
                .ConfigureAwait(false);
        var written = false;
        await ReadJournal(system).CurrentEventsByPersistenceId(persistenceId, seen + 1, long.MaxValue)
            .Take(1)
            .RunForeach(_ => written = true, system.Materializer())
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        return written;
    }

    /// <summary>One workflow's events: on the engine's journal only its rows, read with one indexed query.</summary>
    private static async Task<IReadOnlyList<IJournalEvent>> EventsAsync(ActorSystem system, string persistenceId, CancellationToken cancellationToken)
    {
        var events = new List<IJournalEvent>();
        if (EngineJournal(system) is { } settings)
        {
            Reading(system, "journal", persistenceId[WorkflowActor.PersistenceIdPrefix.Length..]);
            var rows = await Task.Run(
                () => JournalQueries.Events(settings.ConnectionString, settings.BusyTimeout, persistenceId), cancellationToken)
                .ConfigureAwait(false);
            foreach (var e in rows)
            {
                events.Add(e.Identifier == JournalEventSerializer.Id
                    ? JournalEventSerializer.Read(e.Message, e.Manifest)
                    : (IJournalEvent)system.Serialization.Deserialize(e.Message, e.Identifier, e.Manifest));
            }
            return events;
        }
        await ReadJournal(system).CurrentEventsByPersistenceId(persistenceId, 0, long.MaxValue)
            .RunForeach(envelope => events.Add((IJournalEvent)envelope.Event), system.Materializer())
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        return events;
    }
}
