using System.Text.Json;
using System.Text.Json.Serialization;
using Durable.Actors.Storage;

namespace Durable.Actors.Scheduling;

/// <summary>A schedule's row: its spec, whether it is paused, its last tick fired and the tick that waits for a running one to end.</summary>
internal sealed record ScheduleRow(ScheduleSpec Spec, bool Paused, DateTimeOffset CreatedAt, DateTimeOffset? LastTick, DateTimeOffset? BufferedTick);

/// <summary>
/// The schedules: the table <c>durable_schedules</c> beside the journal (the engine's SQLite file, or PostgreSQL on a
/// cluster), one row per schedule, written through connections of its own (a schedule changes seldom; the journal's writer keeps the events). A schedule costs
/// this row and no memory between its ticks but its next due time in the host's <see cref="Scheduler"/>.
/// </summary>
internal sealed class ScheduleStore(SideTables db)
{
    public const string TableName = "durable_schedules";

    private readonly string _schema = $"""
        CREATE TABLE IF NOT EXISTS durable_schedules
        (
            schedule_id   TEXT    NOT NULL PRIMARY KEY,
            spec          TEXT    NOT NULL,
            paused        {db.BigInt} NOT NULL DEFAULT 0,
            created_at    {db.BigInt} NOT NULL,
            last_tick     {db.BigInt}     NULL,
            buffered_tick {db.BigInt}     NULL
        ) {db.KeyedTable};
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Creates the table when missing (a host's start, a CLI command that writes).</summary>
    public void Ensure()
    {
        using var connection = db.Open();
        if (db.TableExists(connection, null, TableName))
            return;
        using var transaction = db.BeginWrite(connection);
        db.Execute(connection, transaction, _schema);
        transaction.Commit();
    }

    /// <summary>Adds a schedule; false when one has its id.</summary>
    public bool Insert(ScheduleSpec spec, DateTimeOffset createdAt)
    {
        Ensure();
        using var connection = db.Open();
        return db.Execute(connection, null, "INSERT INTO durable_schedules (schedule_id, spec, created_at) VALUES ($1, $2, $3) ON CONFLICT (schedule_id) DO NOTHING",
            spec.ScheduleId, JsonSerializer.Serialize(spec, Json), createdAt.UtcTicks) == 1;
    }

    public ScheduleRow? Get(string scheduleId) => Read("WHERE schedule_id = $1", scheduleId).SingleOrDefault();

    /// <summary>The rows of <paramref name="scheduleIds"/> that exist, by id (a few queries of up to 500 ids each).</summary>
    public Dictionary<string, ScheduleRow> Get(IReadOnlyList<string> scheduleIds)
    {
        var rows = new Dictionary<string, ScheduleRow>(StringComparer.Ordinal);
        foreach (var chunk in scheduleIds.Chunk(500))
        {
            var list = string.Join(", ", chunk.Select((_, i) => "$" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            foreach (var row in Read($"WHERE schedule_id IN ({list})", chunk))
                rows[row.Spec.ScheduleId] = row;
        }
        return rows;
    }

    /// <summary>Every schedule, by id; none when the file has no table yet.</summary>
    public List<ScheduleRow> All() => Read("ORDER BY schedule_id");

    /// <summary>
    /// Pauses or resumes a schedule; false when there is none of that id. A resume counts the ticks until
    /// <paramref name="now"/> as fired: those that came while it was paused are not caught up.
    /// </summary>
    public bool SetPaused(string scheduleId, bool paused, DateTimeOffset now) => paused
        ? Update("UPDATE durable_schedules SET paused = 1 WHERE schedule_id = $1", scheduleId)
        : Update($"UPDATE durable_schedules SET paused = 0, last_tick = {db.Greatest}(coalesce(last_tick, 0), $2) WHERE schedule_id = $1", scheduleId, now.UtcTicks);

    /// <summary>Deletes a schedule (the workflows it started stay); false when there is none of that id.</summary>
    public bool Delete(string scheduleId) => Update("DELETE FROM durable_schedules WHERE schedule_id = $1", scheduleId);

    /// <summary>Records each tick as its schedule's last tick fired, unless a later one is recorded, in one transaction.</summary>
    public void Fired(IReadOnlyList<(string ScheduleId, DateTimeOffset Tick)> ticks)
    {
        using var connection = db.Open();
        if (!db.TableExists(connection, null, TableName))
            return;
        using var transaction = db.BeginWrite(connection);
        using var update = db.Command(connection, transaction,
            "UPDATE durable_schedules SET last_tick = $2 WHERE schedule_id = $1 AND (last_tick IS NULL OR last_tick < $2)", "", 0L);
        foreach (var (scheduleId, tick) in ticks)
        {
            update.Parameters[0].Value = scheduleId;
            update.Parameters[1].Value = tick.UtcTicks;
            update.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>Keeps <paramref name="tick"/> to start once the running workflow ends, unless a tick waits so already (<see cref="ScheduleOverlap.BufferOne"/>).</summary>
    public void Buffer(string scheduleId, DateTimeOffset tick) =>
        Update("UPDATE durable_schedules SET buffered_tick = $2 WHERE schedule_id = $1 AND buffered_tick IS NULL", scheduleId, tick.UtcTicks);

    /// <summary>Clears the buffered tick once it started.</summary>
    public void Unbuffer(string scheduleId, DateTimeOffset tick) =>
        Update("UPDATE durable_schedules SET buffered_tick = NULL WHERE schedule_id = $1 AND buffered_tick = $2", scheduleId, tick.UtcTicks);

    private List<ScheduleRow> Read(string where, params object[] values)
    {
        using var connection = db.Open();
        if (!db.TableExists(connection, null, TableName))
            return [];
        using var command = db.Command(connection, null, $"SELECT spec, paused, created_at, last_tick, buffered_tick FROM durable_schedules {where}", values);
        using var reader = command.ExecuteReader();
        var rows = new List<ScheduleRow>();
        while (reader.Read())
        {
            rows.Add(new ScheduleRow(
                JsonSerializer.Deserialize<ScheduleSpec>(reader.GetString(0), Json)!,
                reader.GetInt64(1) != 0,
                Time(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : Time(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : Time(reader.GetInt64(4))));
        }
        return rows;
    }

    private bool Update(string sql, params object[] values)
    {
        using var connection = db.Open();
        return db.TableExists(connection, null, TableName) && db.Execute(connection, null, sql, values) > 0;
    }

    private static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);
}
