using Durable.Actors.Configuration;
using Durable.Actors.Storage;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>The journal's group-committing writer on a real SQLite file.</summary>
public sealed class JournalWriterSpec : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly StorageHooks _hooks = new();

    private static JournalRow Row(string persistenceId, long sequenceNr, byte[]? message = null) =>
        new(persistenceId, sequenceNr, DateTime.UtcNow.Ticks, message ?? [1, 2, 3], "SS", 4711, "writer", []);

    [Fact]
    public async Task WriteAsync_OneWriteOfABatchTakesATakenSequenceNumber_OnlyThatWriteFailsAndTheOthersAreDurable()
    {
        var settings = DurableSettings.Create(TestSupport.Engine.Config(_folder.Database));
        SqliteDatabase.Prepare(settings);
        await using var writer = SqliteJournalStore.Writer(settings.ConnectionString, settings.Synchronous, settings.BusyTimeout);
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

    [Fact]
    public async Task WriteAsync_WritesOverSQLitesSizeLimitInABatch_OnlyThoseFailWithTheirCauseAndTheOthersAreDurable()
    {
        await using var writer = NewWriter();
        // SQLite's length limit lowered on the writer's connection: a value or a row over it is SQLITE_TOOBIG.
        var (bigRow, good, bigValue, last) = await InOneTransaction(writer,
            connection => raw.sqlite3_limit(connection.Handle, raw.SQLITE_LIMIT_LENGTH, 1000),
            () => (
                writer.WriteAsync([Row("c", 1), Row("c", 2, new byte[990])]),   // each value fits, the row does not
                writer.WriteAsync([Row("d", 1)]),
                writer.WriteAsync([Row("e", 1, new byte[2000])]),               // the value does not fit
                writer.WriteAsync([Row("f", 1)])));

        Assert.Equal(raw.SQLITE_TOOBIG, (await Assert.ThrowsAsync<SqliteException>(() => bigRow)).SqliteErrorCode);
        Assert.Equal(raw.SQLITE_TOOBIG, (await Assert.ThrowsAsync<SqliteException>(() => bigValue)).SqliteErrorCode);
        await good;
        await last;
        Assert.Equal(["d:1", "f:1", "first:1"], Rows());
    }

    [Fact]
    public async Task WriteAsync_DatabaseFull_FailsEveryWriteOfTheTransactionNamingTheFileAndWritesGoOnOnceThereIsRoom()
    {
        await using var writer = NewWriter();
        // No page beyond the file's current size: a row that needs a new page is SQLITE_FULL.
        var full = true;
        var (small, big) = await InOneTransaction(writer,
            connection => Execute(connection, $"PRAGMA max_page_count = {(Volatile.Read(ref full) ? 1 : 1_000_000)}"),
            () => (writer.WriteAsync([Row("c", 1)]), writer.WriteAsync([Row("d", 1, new byte[20_000])])));

        // A full disk is not the big write's fault: the small write of its transaction fails too.
        var error = await Assert.ThrowsAsync<SqliteException>(() => big);
        Assert.Equal(raw.SQLITE_FULL, error.SqliteErrorCode);
        Assert.Equal($"database or disk is full: {FullPath}", error.Message);
        Assert.Equal(error.Message, (await Assert.ThrowsAsync<SqliteException>(() => small)).Message);
        Assert.Equal(["first:1"], Rows());

        Volatile.Write(ref full, false);
        await writer.WriteAsync([Row("c", 1)]);
        await writer.WriteAsync([Row("d", 1, new byte[20_000])]);
        Assert.Equal(["c:1", "d:1", "first:1"], Rows());
    }

    private string FullPath => Path.GetFullPath(_folder.Database);

    private JournalWriter NewWriter()
    {
        var settings = DurableSettings.Create(TestSupport.Engine.Config(_folder.Database));
        SqliteDatabase.Prepare(settings);
        return SqliteJournalStore.Writer(settings.ConnectionString, settings.Synchronous, settings.BusyTimeout, _hooks);
    }

    /// <summary>
    /// Writes a row <c>first:1</c> and holds the writer before its transaction while <paramref name="enqueue"/> queues
    /// its writes, so that they all share the next transaction; <paramref name="hook"/> runs before each transaction.
    /// </summary>
    private async Task<T> InOneTransaction<T>(JournalWriter writer, Action<SqliteConnection> hook, Func<T> enqueue)
    {
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var held = 0;
        _hooks.BeforeTransaction = connection =>
        {
            if (Interlocked.Exchange(ref held, 1) == 0)
            {
                entered.Release();
                release.Wait();
            }
            hook(connection);
        };
        var first = writer.WriteAsync([Row("first", 1)]);
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
        var queued = enqueue();
        release.Release();
        await first;
        return queued;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
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

    public void Dispose()
    {
        _folder.Dispose();
    }
}
