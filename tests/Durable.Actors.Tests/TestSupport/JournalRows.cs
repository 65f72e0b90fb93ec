using System.Text;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>The rows of one workflow in the journal table, in sequence order, as the engine stored them.</summary>
public static class JournalRows
{
    public sealed record Row(long SequenceNr, string Manifest, string Json);

    public static IReadOnlyList<Row> Of(string database, string workflowId)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number, manifest, message FROM journal WHERE persistence_id = $pid ORDER BY sequence_number";
        command.Parameters.AddWithValue("$pid", "workflow-" + workflowId);
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
            rows.Add(new Row(reader.GetInt64(0), reader.GetString(1), Encoding.UTF8.GetString((byte[])reader.GetValue(2))));
        return rows;
    }

    /// <summary>The sequence number of the first row that records <paramref name="key"/> COMPLETED.</summary>
    public static long CompletedAt(IReadOnlyList<Row> rows, string key) =>
        rows.First(r => r.Manifest is "SJ" or "CJ" && CompletedKeys(r).Contains(key)).SequenceNr;

    /// <summary>The sequence number of the first row that records <paramref name="key"/> IN_PROGRESS.</summary>
    public static long StartedAt(IReadOnlyList<Row> rows, string key) =>
        rows.First(r => r.Manifest == "SS" && r.Json.Contains($"\"key\":\"{key}\"", StringComparison.Ordinal)
                        || r.Manifest == "CJ" && r.Json.Contains($"\"started\":{{\"key\":\"{key}\"", StringComparison.Ordinal)).SequenceNr;

    private static List<string> CompletedKeys(Row row)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(row.Json);
        return row.Manifest == "SJ"
            ? [doc.RootElement.GetProperty("key").GetString()!]
            : doc.RootElement.GetProperty("completed").EnumerateArray().Select(c => c.GetProperty("key").GetString()!).ToList();
    }
}
