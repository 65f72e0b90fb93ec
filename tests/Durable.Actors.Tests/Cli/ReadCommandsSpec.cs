using System.Security.Cryptography;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// <c>status</c>, <c>history</c> and <c>list</c> read only the pages they need, and write nothing; the scan of every
/// page is <c>check</c>'s.
/// </summary>
public sealed class ReadCommandsSpec
{
    [Fact]
    public async Task ReadCommands_DamageInPagesTheyDoNotRead_AnswerWithoutChangingAByteWhileCheckReportsTheDamage()
    {
        using var folder = new TempFolder();
        var start = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");
        Assert.True(start.ExitCode == 0, start.ToString());
        // An index no read of one workflow or of the workflow index uses: the journal's by creation time.
        DamagePage(folder.Database, RootPage(folder.Database, "journal_created_idx"));
        var hash = SHA256.HashData(await File.ReadAllBytesAsync(folder.Database));
        var files = Directory.GetFileSystemEntries(folder.Path).Order().ToArray();

        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "wf-1");
        var history = await TestSupport.Cli.RunAsync(folder.Path, "history", "wf-1");
        var list = await TestSupport.Cli.RunAsync(folder.Path, "list", "--json");
        var check = await TestSupport.Cli.RunAsync(folder.Path, "check", "--all");

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.StartsWith("workflow wf-1 (onboarding) COMPLETED, 4 steps", status.Stdout);
        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Equal(4, history.StdoutLines.Count(l => l.StartsWith("wf-1:", StringComparison.Ordinal) && l.Contains(" COMPLETED ", StringComparison.Ordinal)));
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("\"workflowId\": \"wf-1\"", list.Stdout);
        Assert.True(check.ExitCode == 2, check.ToString());
        Assert.Contains("is a damaged SQLite database", Assert.Single(check.StderrLines));
        Assert.Equal(hash, SHA256.HashData(await File.ReadAllBytesAsync(folder.Database)));
        Assert.Equal(files, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
    }

    private static long RootPage(string database, string index)
    {
        // Immutable: a plain read-only connection would leave a -wal and a -shm beside the file.
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = new Uri(database).AbsoluteUri + "?immutable=1", Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT rootpage FROM sqlite_master WHERE name = $name";
        command.Parameters.AddWithValue("$name", index);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Overwrites page <paramref name="page"/> (4 KiB pages, numbered from 1) with bytes no b-tree page has.</summary>
    private static void DamagePage(string database, long page)
    {
        Assert.True(page > 1, "the index's root must not be the schema's page");
        Assert.False(File.Exists(database + "-wal"), "the CLI left a WAL: the damage would not be in the file it reads");
        using var file = new FileStream(database, FileMode.Open, FileAccess.Write);
        file.Position = (page - 1) * 4096;
        file.Write(Enumerable.Repeat((byte)0xEE, 4096).ToArray());
    }
}

/// <summary><c>history</c> shows every key: steps, and the durable waits between them.</summary>
public sealed class HistoryWaitsSpec
{
    [Fact]
    public async Task History_ChildWorkflows_ShowsEachChildWaitAtItsKeyBetweenTheSteps()
    {
        using var folder = new TempFolder();
        var start = await TestSupport.Cli.RunAsync(folder.Path, "start", "b-1", "--type", "report-batch", "--input", """{"reports": 2, "report": {"sections": 2}}""");
        Assert.True(start.ExitCode == 0, start.ToString());

        var history = await TestSupport.Cli.RunAsync(folder.Path, "history", "b-1");
        var json = System.Text.Json.JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "b-1", "--json")).Stdout).RootElement;

        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Equal(
            ["b-1:1 start-child:b-1/1 COMPLETED", "b-1:2 child 'b-1/1' ENDED", "b-1:3 start-child:b-1/2 COMPLETED", "b-1:4 child 'b-1/2' ENDED"],
            history.StdoutLines.Where(l => l.StartsWith("b-1:", StringComparison.Ordinal))
                .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^(\S+)\s+(start-child:\S+|child '[^']+')\s+(\S+)").Groups)
                .Select(g => $"{g[1]} {g[2]} {g[3]}"));
        var wait = json.GetProperty("waits")[1];
        Assert.Equal("b-1:4 child b-1/2 ENDED COMPLETED",
            $"{wait.GetProperty("key")} {wait.GetProperty("kind")} {wait.GetProperty("name")} {wait.GetProperty("status")} {wait.GetProperty("payload").GetProperty("status")}");
    }

    [Fact]
    public async Task History_SignalWaitThatTimedOut_ShowsItAsTimedOutBeforeTheStepAfterIt()
    {
        using var folder = new TempFolder();
        var start = await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval",
            "--input", """{"amount": 10, "submitter": "Ada", "timeout": "00:00:00.200"}""");
        Assert.True(start.ExitCode == 0, start.ToString());

        var history = await TestSupport.Cli.RunAsync(folder.Path, "history", "exp-1");

        Assert.True(history.ExitCode == 0, history.ToString());
        var rows = history.StdoutLines.Where(l => l.StartsWith("exp-1:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Matches(@"^exp-1:1\s+submit-expense\s+COMPLETED\s", rows[0]);
        Assert.Matches(@"^exp-1:2\s+signal 'decision'\s+TIMED_OUT\s+-\s.*until ", rows[1]);
        Assert.Matches(@"^exp-1:3\s+escalate\s+COMPLETED\s", rows[2]);
    }
}
