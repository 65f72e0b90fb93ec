using Akka.Actor;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>SQLite files that are not the engine's: an empty one, and another application's database.</summary>
public sealed class ForeignDatabaseSpec
{
    private static void CreateOtherApplicationsDatabase(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada'), ('Grace');";
        command.ExecuteNonQuery();
    }

    [Theory]
    [InlineData("empty.db", "an empty SQLite database", "status", "wf-1")]
    [InlineData("empty.db", "an empty SQLite database", "history", "wf-1")]
    [InlineData("empty.db", "an empty SQLite database", "list")]
    [InlineData("other.db", "another application's SQLite database (tables: customers)", "status", "wf-1")]
    [InlineData("other.db", "another application's SQLite database (tables: customers)", "history", "wf-1", "--json")]
    [InlineData("other.db", "another application's SQLite database (tables: customers)", "list", "--json")]
    [InlineData("other.db", "another application's SQLite database (tables: customers)", "resume", "wf-1")]
    [InlineData("other.db", "another application's SQLite database (tables: customers)", "recover")]
    public async Task ReadingCommand_DatabaseWithoutTheJournal_ExitsTwoWithOneLineNamingTheProblem(string file, string expected, params string[] args)
    {
        using var folder = new TempFolder();
        var database = folder.File(file);
        if (file == "empty.db")
            await File.WriteAllBytesAsync(database, []);
        else
            CreateOtherApplicationsDatabase(database);
        var before = (Dump: TestSupport.Cli.Dump(database), Files: Directory.GetFileSystemEntries(folder.Path).Order().ToArray());

        var run = await TestSupport.Cli.RunAsync(folder.Path, [.. args, "--db", file]);

        Assert.True(run.ExitCode == 2, run.ToString());
        var error = Assert.Single(run.StderrLines);
        Assert.StartsWith($"error: '{database}' has no Durable.Actors journal: it is ", error);
        Assert.Contains(expected, error);
        Assert.Empty(run.Stdout);
        Assert.Equal(before.Dump, TestSupport.Cli.Dump(database));
        Assert.Equal(before.Files, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
    }

    [Theory]
    [InlineData("start", "wf-1")]
    [InlineData("crash-after", "wf-1", "1")]
    public async Task WritingCommand_AnotherApplicationsDatabase_IsRefusedAndLeftUntouched(params string[] args)
    {
        using var folder = new TempFolder();
        var database = folder.File("other.db");
        CreateOtherApplicationsDatabase(database);
        var before = (Dump: TestSupport.Cli.Dump(database), Files: Directory.GetFileSystemEntries(folder.Path).Order().ToArray());

        var run = await TestSupport.Cli.RunAsync(folder.Path, [.. args, "--db", "other.db"]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal(
            $"error: '{database}' is another application's SQLite database (tables: customers); it was left untouched. " +
            "Use another --db, or --allow-foreign-database to add the journal tables to it",
            Assert.Single(run.StderrLines));
        Assert.Equal(before.Dump, TestSupport.Cli.Dump(database));
        Assert.Equal(before.Files, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
        Assert.Empty(TestSupport.Cli.Effects(folder.Path));
    }

    [Fact]
    public async Task Start_AnotherApplicationsDatabaseWithAllowForeignDatabase_RunsAndKeepsItsTables()
    {
        using var folder = new TempFolder();
        var database = folder.File("other.db");
        CreateOtherApplicationsDatabase(database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1", "--db", "other.db", "--allow-foreign-database");
        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "wf-1", "--db", "other.db");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("customers\n1|Ada|\n2|Grace|\n", TestSupport.Cli.Dump(database).Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_EmptySqliteFile_IsNotForeignAndRuns()
    {
        using var folder = new TempFolder();
        await File.WriteAllBytesAsync(folder.Database, []);

        var run = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");

        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void DurableWorkflowsStart_AnotherApplicationsDatabase_ThrowsDatabaseUnavailableAndWritesNothing()
    {
        using var folder = new TempFolder();
        var database = folder.File("other.db");
        CreateOtherApplicationsDatabase(database);
        var before = (Dump: TestSupport.Cli.Dump(database), Files: Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
        using var system = ActorSystem.Create("foreign", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(database)));

        var error = Assert.Throws<DatabaseUnavailableException>(() => DurableWorkflows.Start(system, new WorkflowRegistry()));

        Assert.Equal(
            $"'{database}' is another application's SQLite database (tables: customers), not a Durable.Actors journal; it was left untouched. " +
            "Use another file, or set durable-actors.allow-foreign-database = on to add the journal tables to it.",
            error.Message);
        Assert.Equal(database, error.Path);
        Assert.Equal(before.Dump, TestSupport.Cli.Dump(database));
        Assert.Equal(before.Files, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
    }

    [Fact]
    public async Task DurableWorkflowsStart_AnotherApplicationsDatabaseAllowed_RunsWorkflows()
    {
        using var folder = new TempFolder();
        var database = folder.File("other.db");
        CreateOtherApplicationsDatabase(database);
        using var system = ActorSystem.Create("foreign", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(database, "durable-actors.allow-foreign-database = on")));
        var registry = new WorkflowRegistry().Add<string, string>("echo", async (ctx, text) => await ctx.StepAsync("echo", () => text));

        var coordinator = DurableWorkflows.Start(system, registry);
        var reply = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("wf-1", "echo", "\"hi\""), TimeSpan.FromSeconds(30));

        Assert.Equal("hi", reply.GetResult<string>());
        Assert.Contains("customers\n1|Ada|\n", TestSupport.Cli.Dump(database).Replace("\r\n", "\n", StringComparison.Ordinal));
        await system.Terminate();
    }
}
