using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>A database with one completed workflow, made once by the real CLI and copied into each test's folder.</summary>
[SuppressMessage("Design", "CA1001", Justification = "An xUnit fixture: IAsyncLifetime.DisposeAsync disposes the folder.")]
public sealed class KnownDatabase : IAsyncLifetime
{
    private readonly TempFolder _folder = new();

    public string Database => _folder.Database;

    public async Task InitializeAsync()
    {
        var run = await TestSupport.Cli.RunAsync(_folder.Path, "start", "known");
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class BadInputSpec(KnownDatabase known) : IClassFixture<KnownDatabase>
{
    [Theory]
    [InlineData("unknown workflow 'nope'", "resume", "nope")]
    [InlineData("unknown workflow 'nope'", "status", "nope")]
    [InlineData("unknown workflow 'nope'", "history", "nope")]
    [InlineData("unknown workflow type 'payroll'", "start", "new", "--type", "payroll")]
    [InlineData("--input is not valid JSON", "start", "new", "--input", "{\"name\": ")]
    [InlineData("--input does not fit workflow type 'onboarding'", "start", "new", "--input", "[1, 2]")]
    [InlineData("input is missing (JSON null)", "start", "new", "--input", "null")]
    [InlineData("'email'", "start", "new", "--input", "{\"name\": \"Ada\"}")]
    [InlineData("N must be 1 or more", "crash-after", "new", "0")]
    [InlineData("--stale-timeout 'soon' is not a duration", "resume", "known", "--stale-timeout", "soon")]
    [InlineData("--timeout 'soon' is not a duration", "start", "new", "--timeout", "soon")]
    [InlineData("--timeout must be more than zero, not '0s'", "start", "new", "--timeout", "0s")]
    [InlineData("unknown option '--stale-timeout' (a workflow id cannot start with '-')", "start", "new", "--stale-timeout", "1s")]
    [InlineData("is not a SQLite database", "start", "new", "--db", "notes.txt")]
    [InlineData("is not a SQLite database", "status", "known", "--db", "notes.txt")]
    [InlineData("Cannot create the database folder", "start", "new", "--db", "notes.txt/inside/new.db")]
    [InlineData("does not exist", "resume", "known", "--db", "missing.db")]
    [InlineData("new.db' does not exist: there is no folder '", "list", "--db", "missing/new.db")]
    [InlineData("new.db' does not exist: there is no folder '", "list", "--db", "missing/new.db", "--json")]
    [InlineData("unknown workflow 'known': database '", "status", "known", "--db", "missing/new.db")]
    [InlineData("unknown workflow 'known': database '", "history", "known", "--db", "missing/new.db")]
    [InlineData("Unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("unknown status 'done' (expected running, completed, failed, cancelled, paused, enqueued)", "list", "--status", "done")]
    [InlineData("--after 'yesterday' is not a cursor printed by list", "list", "--after", "yesterday")]
    [InlineData("--after 'c1.bm90LWEtY3Vyc29y' is not a cursor printed by list", "list", "--after", "c1.bm90LWEtY3Vyc29y", "--json")]
    [InlineData("--limit must be from 1 to 1000, not 0", "list", "--limit", "0")]
    public async Task Command_BadInput_ExitsTwoWithOneLineErrorAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        File.Copy(known.Database, folder.Database);
        var notes = folder.File("notes.txt");
        await File.WriteAllTextAsync(notes, "my notes, not a database\n");
        var before = (Dump: TestSupport.Cli.Dump(folder.Database), Files: Directory.GetFileSystemEntries(folder.Path).Order().ToArray());

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        var error = Assert.Single(run.StderrLines);
        Assert.StartsWith("error: ", error);
        Assert.Contains(expected, error);
        Assert.Equal(before.Dump, TestSupport.Cli.Dump(folder.Database));
        Assert.Equal(before.Files, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
        Assert.Equal("my notes, not a database\n", await File.ReadAllTextAsync(notes));
        Assert.Empty(TestSupport.Cli.Effects(folder.Path));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("corrupt")]
    public async Task Command_DamagedDatabase_ExitsTwoNamingTheDamageAndLeavesTheFileAsItWas(string damage)
    {
        using var folder = new TempFolder();
        var bytes = await File.ReadAllBytesAsync(known.Database);
        Assert.True(bytes.Length > 16384, "the known database is too small to damage");
        if (damage == "truncated")
            bytes = bytes[..(bytes.Length / 2)];
        else
            new Random(42).NextBytes(bytes.AsSpan(4096, bytes.Length - 8192));
        await File.WriteAllBytesAsync(folder.Database, bytes);
        var hash = SHA256.HashData(bytes);

        foreach (var args in new[] { new[] { "start", "new" }, ["resume", "known"], ["status", "known"], ["list"], ["recover"] })
        {
            var run = await TestSupport.Cli.RunAsync(folder.Path, args);

            Assert.True(run.ExitCode == 2, run.ToString());
            Assert.Contains("is a damaged SQLite database", Assert.Single(run.StderrLines));
            Assert.Equal(hash, SHA256.HashData(await File.ReadAllBytesAsync(folder.Database)));
        }
    }

    [Fact]
    public async Task Start_DatabaseLockedByAnotherProcessLongerThanTheBusyTimeout_FailsClearlyAndWritesNothing()
    {
        using var folder = new TempFolder();
        File.Copy(known.Database, folder.Database);
        var before = TestSupport.Cli.Dump(folder.Database);
        CliResult run;
        using (var holder = new SqliteConnection($"Data Source={folder.Database};Pooling=False"))
        {
            holder.Open();
            using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }

            run = await TestSupport.Cli.RunAsync(folder.Path, "start", "new", "--busy-timeout", "100ms");
        }

        Assert.True(run.ExitCode == 1, run.ToString());
        var failure = run.StdoutLines[^1];
        Assert.StartsWith("workflow new failed: workflow 'new' gave up after 2 restarts: writing to the journal failed", failure);
        Assert.Contains("database is locked", failure);
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
        Assert.Empty(TestSupport.Cli.Effects(folder.Path));
    }
}
