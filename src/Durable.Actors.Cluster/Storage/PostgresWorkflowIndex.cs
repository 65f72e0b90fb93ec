using System.Text;
using Akka.Actor;
using Durable.Actors.Configuration;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Storage;
using Npgsql;

namespace Durable.Actors.Cluster.Storage;

/// <summary>
/// The workflow index on PostgreSQL, as <see cref="JournalReader"/> reads it (named by
/// <c>durable-actors.sql.index-class</c>, which cluster mode sets on PostgreSQL): pages, counts and the running
/// workflows of a bucket, each one query on <c>workflow_index</c>. The first read creates the tables when missing and
/// builds the index of a database written before it existed (<see cref="PostgresSchema"/>), so that a member that
/// only reads (a proxy, a CLI) sees it too.
/// </summary>
internal sealed class PostgresWorkflowIndex : IWorkflowIndexSource
{
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
        string? status, string? workflowType, string? idPrefix, (long CreatedTicks, string WorkflowId)? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand { Connection = connection };
        var where = new List<string>();
        string Next(NpgsqlParameter parameter)
        {
            command.Parameters.Add(parameter);
            return "$" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (status is not null)
            where.Add($"status = {Next(PostgresSchema.Text(status))}");
        if (workflowType is not null)
            where.Add($"workflow_type = {Next(PostgresSchema.Text(workflowType))}");
        if (!string.IsNullOrEmpty(idPrefix))
        {
            // A range on the primary key (its "C" collation orders by code point) that the key's index serves, and
            // starts_with to keep it exact where the range is wider.
            var prefix = Next(PostgresSchema.Text(idPrefix));
            where.Add($"workflow_id >= {prefix} AND starts_with(workflow_id, {prefix})");
            if (WorkflowIndexStore.PrefixEnd(idPrefix) is { } end)
                where.Add($"workflow_id < {Next(PostgresSchema.Text(end))}");
        }
        if (after is var (created, id))
            where.Add($"(created_at, workflow_id) < ({Next(new NpgsqlParameter<long> { TypedValue = created })}, {Next(PostgresSchema.Text(id))})");
        command.CommandText = new StringBuilder($"SELECT {PostgresSchema.Columns} FROM workflow_index")
            .Append(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            .Append(" ORDER BY created_at DESC, workflow_id DESC LIMIT ")
            .Append(Next(new NpgsqlParameter<int> { TypedValue = limit + 1 }))
            .ToString();
        var rows = new List<WorkflowIndexRow>(Math.Min(limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                rows.Add(Read(reader));
        }
        var more = rows.Count > limit;
        if (more)
            rows.RemoveAt(limit);
        return (rows, more);
    }

    public async Task<Dictionary<string, long>> CountByStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT status, count(*) FROM workflow_index GROUP BY status", connection);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public async Task<List<string>> IdsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT workflow_id FROM workflow_index ORDER BY workflow_id", connection);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }

    public async Task<WorkflowIndexRow?> RowAsync(string workflowId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT {PostgresSchema.Columns} FROM workflow_index WHERE workflow_id = $1", connection);
        command.Parameters.Add(PostgresSchema.Text(workflowId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    /// <summary>The running workflows (of one bucket: those whose id hash falls in it), found through the status index.</summary>
    public async Task<List<(string WorkflowId, DateTimeOffset? WakeAt)>> RunningAsync(RecoveryPartition? partition, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(PostgresSchema.Text(WorkflowIndex.StatusText(WorkflowRunStatus.Running)));
        if (partition is { } p)
        {
            command.CommandText = "SELECT workflow_id, wake_at FROM workflow_index WHERE status = $1 AND id_hash % $2 = $3";
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = p.Buckets });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = p.Bucket });
        }
        else
        {
            command.CommandText = "SELECT workflow_id, wake_at FROM workflow_index WHERE status = $1";
        }
        var running = new List<(string, DateTimeOffset?)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            running.Add((reader.GetString(0), reader.IsDBNull(1) ? null : PostgresSchema.Time(reader.GetInt64(1))));
        return running;
    }

    /// <summary>Every row, ordered by id (tests compare it with the fold of the journal).</summary>
    public async Task<List<WorkflowIndexRow>> AllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT {PostgresSchema.Columns} FROM workflow_index ORDER BY workflow_id", connection);
        var rows = new List<WorkflowIndexRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(Read(reader));
        return rows;
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

    private static WorkflowIndexRow Read(NpgsqlDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        PostgresSchema.Time(r.GetInt64(3)),
        PostgresSchema.Time(r.GetInt64(4)),
        r.IsDBNull(5) ? null : PostgresSchema.Time(r.GetInt64(5)),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.GetInt32(7),
        r.GetInt32(8),
        r.GetInt32(9),
        r.IsDBNull(10) ? null : PostgresSchema.Time(r.GetInt64(10)));
}
