using System.Data.Common;
using System.Globalization;
using System.Text;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Storage;

/// <summary>
/// The read queries of the workflow index, written once for every database that keeps it (SQLite's
/// <see cref="WorkflowIndexStore"/>, PostgreSQL's in Durable.Actors.Cluster): each method fills an ADO.NET command,
/// and <see cref="Read"/> turns a row into a <see cref="WorkflowIndexRow"/>. A database gives only what differs: how a
/// parameter is named, how a text starts with a prefix, and whether its rows carry the id's hash (a cluster bucket
/// reads only its own running workflows).
/// </summary>
/// <param name="namedParameters">
/// Whether parameters are named (<c>$1</c> is the parameter called <c>$1</c>: SQLite) rather than positional (Npgsql).
/// </param>
/// <param name="startsWith">
/// The condition that a column starts with a parameter; the third argument adds a parameter of the prefix's length in
/// code points, for a database that needs it.
/// </param>
/// <param name="idHash">Whether the table has <c>id_hash</c>, the id's FNV-1a hash.</param>
internal sealed class WorkflowIndexQueries(bool namedParameters, Func<string, string, Func<string>, string> startsWith, bool idHash)
{
    public const string Columns =
        "workflow_id, workflow_type, status, created_at, updated_at, ended_at, error, step_count, completed_steps, failed_attempts, wake_at";

    /// <summary>SQLite's: named parameters; substr compares the prefix (LIKE ignores case and would not use the key).</summary>
    public static WorkflowIndexQueries Sqlite { get; } = new(true, (column, prefix, length) => $"substr({column}, 1, {length()}) = {prefix}", idHash: false);

    /// <summary>
    /// At most <paramref name="limit"/> ids of the workflows of <paramref name="status"/> that ended before
    /// <paramref name="before"/> (the retention sweep's), oldest first through the status index: the first rows it
    /// reads are those that ended longest ago, where newest first would read every recent one before them.
    /// </summary>
    public void Expired(DbCommand command, WorkflowRunStatus status, DateTimeOffset before, int limit) =>
        command.CommandText = $"SELECT workflow_id FROM workflow_index WHERE status = {Add(command, WorkflowIndex.StatusText(status))} "
            + $"AND ended_at < {Add(command, before.UtcTicks)} ORDER BY status, created_at, workflow_id LIMIT {Add(command, limit)}";

    /// <summary>
    /// One page of <paramref name="query"/>, newest first (by creation, then id), one row more than its limit (whether rows follow it).
    /// </summary>
    public void Page(DbCommand command, WorkflowQuery query, (long CreatedTicks, string WorkflowId)? after)
    {
        var (idPrefix, limit) = (query.IdPrefix, query.Limit);
        var where = new List<string>();
        if (query.Status is { } status)
            where.Add($"status = {Add(command, WorkflowIndex.StatusText(status))}");
        if (query.Type is { } workflowType)
            where.Add($"workflow_type = {Add(command, workflowType)}");
        if (query.EndedBefore is { } endedBefore)
            where.Add($"ended_at < {Add(command, endedBefore.UtcTicks)}");
        if (!string.IsNullOrEmpty(idPrefix))
        {
            // A range on the primary key, which its index serves (both databases order ids by code point), and the
            // prefix test to keep it exact where the range is wider (a prefix ending in a char PrefixEnd cannot bump).
            var prefix = Add(command, idPrefix);
            where.Add($"workflow_id >= {prefix} AND {startsWith("workflow_id", prefix, () => Add(command, idPrefix.EnumerateRunes().Count()))}");
            if (PrefixEnd(idPrefix) is { } end)
                where.Add($"workflow_id < {Add(command, end)}");
        }
        // Each condition on an attribute: the workflows it holds for, read through the attributes' index of its kind.
        foreach (var filter in query.Attributes ?? [])
        {
            var (column, value) = filter.Stored.InText ? ("text_value", (object)filter.Stored.Text!) : ("num_value", filter.Stored.Number);
            where.Add($"workflow_id IN (SELECT workflow_id FROM workflow_attributes WHERE name = {Add(command, filter.Name)} "
                + $"AND kind = {Add(command, filter.Stored.KindText)} AND {column} {filter.SqlOperator} {Add(command, value)})");
        }
        if (after is var (created, id))
            where.Add($"(created_at, workflow_id) < ({Add(command, created)}, {Add(command, id)})");
        command.CommandText = new StringBuilder($"SELECT {Columns} FROM workflow_index")
            .Append(where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            .Append(" ORDER BY created_at DESC, workflow_id DESC LIMIT ")
            .Append(Add(command, limit + 1))
            .ToString();
    }

    /// <summary>How many workflows have each status: rows of (status, count).</summary>
    public static void CountByStatus(DbCommand command) =>
        command.CommandText = "SELECT status, COUNT(*) FROM workflow_index GROUP BY status";

    /// <summary>Every workflow id, in order.</summary>
    public static void Ids(DbCommand command) =>
        command.CommandText = "SELECT workflow_id FROM workflow_index ORDER BY workflow_id";

    /// <summary>One workflow's row, read by its primary key.</summary>
    public void Row(DbCommand command, string workflowId) =>
        command.CommandText = $"SELECT {Columns} FROM workflow_index WHERE workflow_id = {Add(command, workflowId)}";

    /// <summary>Every row, ordered by id (tests compare it with a fold of the journal).</summary>
    public static void All(DbCommand command) =>
        command.CommandText = $"SELECT {Columns} FROM workflow_index ORDER BY workflow_id";

    /// <summary>
    /// The running workflows, paused and enqueued ones included, with when each is due (rows of id, wake_at), found through the
    /// status index; of one bucket when the table has the ids' hashes (otherwise every running one: the caller filters).
    /// A paused one is due at its deadline only (to be cancelled then), or never.
    /// </summary>
    public void Running(DbCommand command, RecoveryPartition? partition)
    {
        var sql = $"SELECT workflow_id, wake_at FROM workflow_index WHERE status IN ({Add(command, WorkflowIndex.StatusText(WorkflowRunStatus.Running))}, {Add(command, WorkflowIndex.StatusText(WorkflowRunStatus.Paused))}, {Add(command, WorkflowIndex.StatusText(WorkflowRunStatus.Enqueued))})";
        if (idHash && partition is { } p)
            sql += $" AND id_hash % {Add(command, (long)p.Buckets)} = {Add(command, (long)p.Bucket)}";
        command.CommandText = sql;
    }

    /// <summary>A row of <see cref="Columns"/>.</summary>
    public static WorkflowIndexRow Read(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        Time(r.GetInt64(3)),
        Time(r.GetInt64(4)),
        r.IsDBNull(5) ? null : Time(r.GetInt64(5)),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.GetInt32(7),
        r.GetInt32(8),
        r.GetInt32(9),
        r.IsDBNull(10) ? null : Time(r.GetInt64(10)));

    /// <summary>A row of <see cref="Running"/>.</summary>
    public static (string WorkflowId, DateTimeOffset? WakeAt) ReadRunning(DbDataReader r) =>
        (r.GetString(0), r.IsDBNull(1) ? null : Time(r.GetInt64(1)));

    /// <summary>Runs <paramref name="command"/> and reads each of its rows with <paramref name="read"/>.</summary>
    public static List<T> List<T>(DbCommand command, Func<DbDataReader, T> read)
    {
        var rows = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows.Add(read(reader));
        return rows;
    }

    /// <inheritdoc cref="List{T}"/>
    public static async Task<List<T>> ListAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(read(reader));
        return rows;
    }

    /// <summary>A page read by <see cref="Page"/>: at most <paramref name="limit"/> rows, and whether more follow.</summary>
    public static (List<WorkflowIndexRow> Rows, bool More) Trim(List<WorkflowIndexRow> rows, int limit)
    {
        var more = rows.Count > limit;
        if (more)
            rows.RemoveAt(limit);
        return (rows, more);
    }

    /// <summary>How many workflows have each status, from the rows of <see cref="CountByStatus"/>.</summary>
    public static Dictionary<string, long> Counts(IEnumerable<(string Status, long Count)> rows) =>
        rows.ToDictionary(r => r.Status, r => r.Count, StringComparer.Ordinal);

    /// <summary>The smallest text greater than every text starting with <paramref name="prefix"/>; null when there is none.</summary>
    internal static string? PrefixEnd(string prefix)
    {
        // Both databases compare ids as UTF-16 code points do, except for surrogates: bump the last char that is not the
        // highest of the BMP, and keep only what precedes it.
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < '\uD7FF')
                return prefix[..i] + (char)(prefix[i] + 1);
        }
        return null;
    }

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>Adds a parameter of <paramref name="value"/> and returns its placeholder.</summary>
    private string Add(DbCommand command, object value)
    {
        var parameter = command.CreateParameter();
        var placeholder = "$" + (command.Parameters.Count + 1).ToString(CultureInfo.InvariantCulture);
        if (namedParameters)
            parameter.ParameterName = placeholder;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return placeholder;
    }
}
