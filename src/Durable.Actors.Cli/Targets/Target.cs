using Akka.Actor;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Targets;

/// <summary>
/// Where a workflow command works: the SQLite file of <c>--db</c> (<see cref="SqliteTarget"/>) or a cluster's
/// PostgreSQL database (<see cref="ClusterTarget"/>). The verbs say what they do once; how each store does it is here.
/// </summary>
internal abstract class Target
{
    /// <summary>How messages name it: <c>database '/path/durable.db'</c>, or the cluster's PostgreSQL database and server.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// The target of a command's options. Refuses, in one line, a mix of the two modes' options, a cluster's bad options
    /// and, for a SQLite file, what <paramref name="use"/> cannot work on; nothing has touched the disk or the network yet.
    /// </summary>
    public static Target Of(StoreOptions store, string command, DatabaseUse use) =>
        store.Cluster(command) is { } cluster ? new ClusterTarget(cluster) : SqliteTarget.Of(store.Database, use);

    /// <summary>The workflows the CLI knows (the samples), with their effects log.</summary>
    public abstract WorkflowRegistry Registry(string? effectsLog);

    /// <summary>A workflow's status and durable waits, or null for an unknown id.</summary>
    public abstract Task<(WorkflowStatus Status, IReadOnlyList<WaitRecord> Waits)?> ReadHistoryAsync(string workflowId, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the workflow index; with <paramref name="details"/>, the completed workflows' results and what the
    /// running ones wait for (read from their journals).
    /// </summary>
    public abstract Task<ListedPage> ReadPageAsync(WorkflowQuery query, bool details, CancellationToken cancellationToken);

    /// <summary>Opens a session that reads through the engine and sends to workflows; nothing runs until <see cref="Session.BeginAsync"/>.</summary>
    public abstract Task<Session> OpenAsync(WorkflowRegistry registry, EngineOptions options, CancellationToken cancellationToken);
}

/// <summary>
/// What a command needs of a SQLite file: to read what is there (<see cref="Reads"/>), an existing journal
/// (<see cref="Runs"/>), or a file it may create (<see cref="Writes"/>). <see cref="WorkflowId"/> names the workflow in the
/// error when the file does not exist.
/// </summary>
internal sealed record DatabaseUse(bool Checked, bool MustExist, bool Reading, string? WorkflowId, bool AllowForeign)
{
    /// <summary><c>status</c>, <c>history</c>, <c>list</c>: read directly, with only a header and schema check.</summary>
    public static DatabaseUse Reads { get; } = new(false, false, true, null, false);

    /// <summary>A journal that must exist (<c>resume</c>, <c>signal</c>, <c>cancel</c>, <c>recover</c>).</summary>
    public static DatabaseUse Runs(string? workflowId) => new(true, true, true, workflowId, false);

    /// <summary>A file that is created when missing (<c>start</c>, <c>serve</c>, <c>dashboard</c>).</summary>
    public static DatabaseUse Writes(string? workflowId, bool allowForeign = false) => new(true, false, false, workflowId, allowForeign);
}

/// <summary>What a session's engine is given: the options of <c>--stale-timeout</c>, <c>--busy-timeout</c>, <c>--allow-foreign-database</c>.</summary>
internal sealed record EngineOptions(TimeSpan? StaleTimeout = null, TimeSpan? BusyTimeout = null, bool AllowForeignDatabase = false)
{
    public static EngineOptions Default { get; } = new();
}

/// <summary>A page of <c>list</c>, with what <c>--json</c> adds per workflow (results by id, waits by id).</summary>
internal sealed record ListedPage(WorkflowPage Page, IReadOnlyDictionary<string, string> Results, IReadOnlyDictionary<string, string> WaitingFor)
{
    public static ListedPage Empty { get; } = new(new WorkflowPage([], null), new Dictionary<string, string>(), new Dictionary<string, string>());
}

/// <summary>Reads through an ActorSystem's engine: on a cluster, and on a SQLite file that needs a host to be read.</summary>
internal static class HostReads
{
    public static async Task<(WorkflowStatus Status, IReadOnlyList<WaitRecord> Waits)?> HistoryAsync(ActorSystem system, string workflowId, CancellationToken cancellationToken) =>
        await DurableWorkflows.GetDetailAsync(system, workflowId, cancellationToken) is { } detail ? (detail.Status, detail.Waits) : null;

    public static async Task<ListedPage> PageAsync(ActorSystem system, WorkflowQuery query, bool details, CancellationToken cancellationToken)
    {
        var page = await DurableWorkflows.ListAsync(system, query, cancellationToken);
        if (!details)
            return ListedPage.Empty with { Page = page };
        // Each completed workflow's result and each running one's wait, from its status (one journal read each).
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        var waits = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var listed in page.Items.Where(w => w.Status == WorkflowRunStatus.Completed || w.Status.IsActive()))
        {
            switch (await DurableWorkflows.GetStatusAsync(system, listed.WorkflowId, cancellationToken))
            {
                case { Status: WorkflowRunStatus.Completed, ResultJson: { } result }:
                    results[listed.WorkflowId] = result;
                    break;
                case { WaitingFor: { } waitingFor } when listed.Status.IsActive():
                    waits[listed.WorkflowId] = waitingFor;
                    break;
            }
        }
        return new ListedPage(page, results, waits);
    }
}
