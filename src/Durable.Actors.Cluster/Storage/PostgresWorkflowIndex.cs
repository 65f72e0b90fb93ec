using Akka.Actor;
using Durable.Actors.Configuration;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Storage;
using Npgsql;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// The workflow index on PostgreSQL, as <see cref="JournalReader"/> reads it (given by cluster mode's setup,
/// <see cref="DurableCluster.IndexSetup"/>): pages, counts and the running
/// workflows of a bucket, each one query on <c>workflow_index</c> (<see cref="WorkflowIndexQueries"/>). The first read creates the tables when missing and
/// builds the index of a database written before it existed (<see cref="PostgresSchema"/>), so that a member that
/// only reads (a proxy, a CLI) sees it too.
/// </summary>
internal sealed class PostgresWorkflowIndex : IWorkflowIndexSource
{
    // PostgreSQL's: positional parameters, starts_with, and the ids' hashes (a bucket reads its own running workflows).
    private static readonly WorkflowIndexQueries Queries = new(false, (column, prefix, _) => $"starts_with({column}, {prefix})", idHash: true);

    private readonly NpgsqlDataSource _dataSource;
    private readonly object _gate = new();
    private Task? _ready;

    public PostgresWorkflowIndex(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _dataSource = NpgsqlDataSource.Create(DurableSettings.Create(system).SqlConnectionString);
        system.RegisterOnTermination(() => _dataSource.Dispose());
    }

    public async Task<(List<WorkflowIndexRow> Rows, bool More)> PageAsync(
        WorkflowQuery query, (long CreatedTicks, string WorkflowId)? after, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        Queries.Page(command, query, after);
        return WorkflowIndexQueries.Trim(await WorkflowIndexQueries.ListAsync(command, WorkflowIndexQueries.Read, cancellationToken).ConfigureAwait(false), query.Limit);
    }

    public async Task<List<string>> ExpiredAsync(WorkflowRunStatus status, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        Queries.Expired(command, status, before, limit);
        return await WorkflowIndexQueries.ListAsync(command, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Dictionary<string, long>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        WorkflowIndexQueries.CountByStatus(command);
        return WorkflowIndexQueries.Counts(
            await WorkflowIndexQueries.ListAsync(command, r => (r.GetString(0), r.GetInt64(1)), cancellationToken).ConfigureAwait(false));
    }

    public async Task<List<string>> IdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        WorkflowIndexQueries.Ids(command);
        return await WorkflowIndexQueries.ListAsync(command, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public async Task<WorkflowIndexRow?> RowAsync(string workflowId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        Queries.Row(command, workflowId);
        return (await WorkflowIndexQueries.ListAsync(command, WorkflowIndexQueries.Read, cancellationToken).ConfigureAwait(false)).SingleOrDefault();
    }

    /// <summary>The running workflows (of one bucket: those whose id hash falls in it), found through the status index.</summary>
    public async Task<List<(string WorkflowId, DateTimeOffset? WakeAt)>> RunningAsync(RecoveryPartition? partition, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        Queries.Running(command, partition);
        return await WorkflowIndexQueries.ListAsync(command, WorkflowIndexQueries.ReadRunning, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every row, ordered by id (tests compare it with the fold of the journal).</summary>
    public async Task<List<WorkflowIndexRow>> AllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        WorkflowIndexQueries.All(command);
        return await WorkflowIndexQueries.ListAsync(command, WorkflowIndexQueries.Read, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A pooled connection, the tables ensured once (again after a failure: PostgreSQL may have been away).</summary>
    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Task ready;
            lock (_gate)
            {
                if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
                    _ready = EnsureAsync();
                ready = _ready;
            }
            await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task EnsureAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await PostgresSchema.EnsureAsync(connection, CancellationToken.None).ConfigureAwait(false);
    }
}
