using System.Runtime.CompilerServices;
using Akka.Actor;
using Durable.Actors.Configuration;
using Durable.Actors.Journal;
using Durable.Actors.Storage;

namespace Durable.Actors.Inspection;

/// <summary>
/// Where <see cref="JournalReader"/> reads the workflow index (one row per workflow, kept in the transaction of the
/// events): the engine's SQLite file, or another database's index that a journal of its own keeps (cluster mode on
/// PostgreSQL, in Durable.Actors.Cluster, given with the ActorSystem's setup (<see cref="WorkflowIndexSetup"/>) so that
/// the core references no database driver). Listing, counts and recovery read it; the status of one workflow reads that workflow's events.
/// </summary>
internal interface IWorkflowIndexSource
{
    /// <summary>One page, newest first (by creation, then id), and whether rows follow it.</summary>
    Task<(List<WorkflowIndexRow> Rows, bool More)> PageAsync(
        WorkflowQuery query, (long CreatedTicks, string WorkflowId)? after, CancellationToken cancellationToken);

    /// <summary>How many workflows have each status (the stored text).</summary>
    Task<Dictionary<string, long>> CountByStatusAsync(CancellationToken cancellationToken);

    /// <summary>At most <paramref name="limit"/> ids of the workflows of <paramref name="status"/> that ended before <paramref name="before"/>, oldest first.</summary>
    Task<List<string>> ExpiredAsync(WorkflowRunStatus status, DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>Every workflow id.</summary>
    Task<List<string>> IdsAsync(CancellationToken cancellationToken);

    /// <summary>One workflow's row, read by its id (one read of the primary key); null for an unknown id.</summary>
    Task<WorkflowIndexRow?> RowAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>
    /// The running workflows with when each is due (null: now). With a <paramref name="partition"/>, a source may return
    /// only the ids of that bucket (the caller filters anyway); never more than the running ones.
    /// </summary>
    Task<List<(string WorkflowId, DateTimeOffset? WakeAt)>> RunningAsync(RecoveryPartition? partition, CancellationToken cancellationToken);
}

/// <summary>A cluster bucket's share of the workflow ids: those whose FNV-1a hash (see Durable.Actors.Cluster's Buckets) modulo <paramref name="Buckets"/> is <paramref name="Bucket"/>.</summary>
internal sealed record RecoveryPartition(int Bucket, int Buckets);

/// <summary>Picks the index source of a system from its settings, once per system.</summary>
internal static class WorkflowIndexSources
{
    private static readonly ConditionalWeakTable<ActorSystem, IWorkflowIndexSource?> Made = new();

    /// <summary>The system's index source; null when its journal keeps none (another plugin: read the journal itself).</summary>
    public static IWorkflowIndexSource? For(ActorSystem system)
    {
        if (Made.TryGetValue(system, out var made))
            return made;
        lock (Made)
        {
            if (Made.TryGetValue(system, out made))
                return made;
            made = Create(system, PersistencePlugins.Bind(system));
            Made.Add(system, made);
            return made;
        }
    }

    private static IWorkflowIndexSource? Create(ActorSystem system, DurableSettings settings)
    {
        if (settings.UsesEngineSqlite && settings.QueryPluginId == PersistencePlugins.QueryPath)
            return new SqliteWorkflowIndexSource(settings);
        if (settings.Storage != StorageProfile.Sql || settings.JournalPluginId != PersistencePlugins.JournalPath)
            return null;
        if (system.Settings.Setup.Get<WorkflowIndexSetup>() is not { HasValue: true } index)
            return null;
        // Only the engine's write journal keeps the index in its events' transaction; the plugin's own leaves it behind.
        return KeepsIndex(settings.SqlJournalClass) ? index.Value.Create(system) : null;
    }

    private static bool KeepsIndex(string journalClass) =>
        journalClass.Length > 0 && Type.GetType(journalClass, throwOnError: false) is { } type && typeof(EngineWriteJournal).IsAssignableFrom(type);
}

/// <summary>
/// The workflow index of a database other than the engine's SQLite file, given with an ActorSystem's setup (cluster
/// mode on PostgreSQL: <c>DurableCluster.CreateSetup</c> and <c>WithDurableWorkflowsCluster</c> add it). Read only
/// while the journal is the engine's own (<see cref="EngineWriteJournal"/>), which keeps it.
/// </summary>
/// <param name="create">Makes the system's index source, once.</param>
internal sealed class WorkflowIndexSetup(Func<ActorSystem, IWorkflowIndexSource> create) : Akka.Actor.Setup.Setup
{
    public IWorkflowIndexSource Create(ActorSystem system) => create(system);
}

/// <summary>The index of the engine's SQLite journal (<see cref="WorkflowIndexStore"/>), built first when the file has none.</summary>
internal sealed class SqliteWorkflowIndexSource(DurableSettings settings) : IWorkflowIndexSource
{
    public Task<(List<WorkflowIndexRow> Rows, bool More)> PageAsync(
        WorkflowQuery query, (long CreatedTicks, string WorkflowId)? after, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var connection = Open();
            var page = WorkflowIndexStore.Page(connection, query, after, out var more);
            return (page, more);
        }, cancellationToken);

    public Task<Dictionary<string, long>> CountByStatusAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = Open();
        return WorkflowIndexStore.CountByStatus(connection);
    }, cancellationToken);

    public Task<List<string>> IdsAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = Open();
        return WorkflowIndexStore.Ids(connection);
    }, cancellationToken);

    public Task<List<string>> ExpiredAsync(WorkflowRunStatus status, DateTimeOffset before, int limit, CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        WorkflowIndexQueries.Sqlite.Expired(command, status, before, limit);
        return WorkflowIndexQueries.List(command, r => r.GetString(0));
    }, cancellationToken);

    public Task<WorkflowIndexRow?> RowAsync(string workflowId, CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = Open();
        return WorkflowIndexStore.Row(connection, workflowId);
    }, cancellationToken);

    // One machine has no buckets: every running workflow.
    public Task<List<(string WorkflowId, DateTimeOffset? WakeAt)>> RunningAsync(RecoveryPartition? partition, CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = Open();
        return WorkflowIndexStore.Running(connection);
    }, cancellationToken);

    /// <summary>A connection to the engine's journal with its index, built first when the database has none (an older database read before any host started on it).</summary>
    private Microsoft.Data.Sqlite.SqliteConnection Open()
    {
        var connection = SqliteDatabase.Open(settings.ConnectionString, $"PRAGMA busy_timeout={(long)settings.BusyTimeout.TotalMilliseconds};");
        try
        {
            WorkflowIndexStore.EnsureBuilt(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
