using Durable.Actors.Configuration;
using Durable.Actors.Storage;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>The journal's group-committing writer on a real SQLite file.</summary>
public sealed class JournalWriterSpec : IDisposable
{
    private readonly TempFolder _folder = new();

    private static JournalWriter.Row Row(string persistenceId, long sequenceNr) =>
        new(persistenceId, sequenceNr, DateTime.UtcNow.Ticks, [1, 2, 3], "SS", 4711, "writer", []);

    [Fact]
    public async Task WriteAsync_OneWriteOfABatchTakesATakenSequenceNumber_OnlyThatWriteFailsAndTheOthersAreDurable()
    {
        var settings = DurableSettings.Create(TestSupport.Engine.Config(_folder.Database));
        SqliteDatabase.Prepare(settings);
        using var writer = new JournalWriter(settings.ConnectionString, settings.Synchronous, settings.BusyTimeout);
        await writer.WriteAsync([Row("a", 1)]);

        // Another connection holds the write lock while the writer waits on its next commit, so the writes queued
        // meanwhile share the transaction after it.
        Task first, taken, other;
        using (var holder = new SqliteConnection($"Data Source={_folder.Database};Pooling=False"))
        {
            holder.Open();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                begin.ExecuteNonQuery();
            }
            first = writer.WriteAsync([Row("c", 1)]);
            taken = writer.WriteAsync([Row("b", 1), Row("a", 1)]);
            other = writer.WriteAsync([Row("d", 1), Row("d", 2)]);
        }

        await first;
        var error = await Assert.ThrowsAsync<SqliteException>(() => taken);
        Assert.Equal(19, error.SqliteErrorCode);
        await other;
        Assert.Equal(["a:1", "c:1", "d:1", "d:2"], Rows());
    }

    private List<string> Rows()
    {
        using var connection = new SqliteConnection($"Data Source={_folder.Database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id || ':' || sequence_number FROM journal ORDER BY persistence_id, sequence_number";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(reader.GetString(0));
        return rows;
    }

    public void Dispose() => _folder.Dispose();
}
