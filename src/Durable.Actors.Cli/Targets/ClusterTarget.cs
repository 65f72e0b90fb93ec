using Durable.Actors.Cli.Hosting;
using Durable.Actors.Journal;
using Durable.Actors.Samples.Onboarding;

namespace Durable.Actors.Cli.Targets;

/// <summary>
/// A cluster (<c>--postgres</c>): reads go to its PostgreSQL database through a local ActorSystem that joins nothing;
/// a session joins the cluster as a proxy-only member, sends through the shard region, and leaves before the CLI exits
/// (the steps run, and print, on the nodes).
/// </summary>
internal sealed class ClusterTarget(ClusterConnection cluster) : Target
{
    public override string Description => cluster.Description;

    /// <summary>The samples' types, to check a start's type and input; their steps run on the nodes, not here.</summary>
    public override WorkflowRegistry Registry(string? effectsLog) =>
        SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log"));

    public override async Task<(WorkflowStatus Status, IReadOnlyList<WaitRecord> Waits)?> ReadHistoryAsync(string workflowId, CancellationToken cancellationToken)
    {
        await using var host = await ClusterCliHost.OpenReaderAsync(cluster);
        return await NoJournalAsEmptyAsync(() => HostReads.HistoryAsync(host.System, workflowId, cancellationToken), null);
    }

    public override async Task<ListedPage> ReadPageAsync(WorkflowQuery query, bool details, CancellationToken cancellationToken)
    {
        await using var host = await ClusterCliHost.OpenReaderAsync(cluster);
        return await NoJournalAsEmptyAsync(() => HostReads.PageAsync(host.System, query, details, cancellationToken), ListedPage.Empty);
    }

    /// <summary>A member that has not joined yet: bad input (a port in use, PostgreSQL unreachable) is refused before the cluster sees it.</summary>
    public override async Task<Session> OpenAsync(WorkflowRegistry registry, EngineOptions options, CancellationToken cancellationToken) =>
        new ClusterSession(await ClusterCliHost.OpenMemberAsync(cluster, registry), cluster.Description);

    /// <summary>
    /// A cluster's new PostgreSQL database has no journal table until a node first writes (the CLI creates none: it
    /// writes nothing): read there as a journal without workflows.
    /// </summary>
    private static async Task<T> NoJournalAsEmptyAsync<T>(Func<Task<T>> read, T empty)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e.GetBaseException() is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UndefinedTable })
        {
            return empty;
        }
    }

    private sealed class ClusterSession(ClusterCliHost member, string description) : Session(member.System, description)
    {
        public override bool Resends => true;

        /// <summary>Joins the cluster; the observer is not used (the nodes run the steps).</summary>
        public override Task BeginAsync(IWorkflowObserver observer, CancellationToken cancellationToken) => member.JoinAsync(cancellationToken);

        protected override Task<T> ReadAsync<T>(Func<Task<T>> read, T empty) => NoJournalAsEmptyAsync(read, empty);

        public override ValueTask DisposeAsync() => member.DisposeAsync();
    }
}
