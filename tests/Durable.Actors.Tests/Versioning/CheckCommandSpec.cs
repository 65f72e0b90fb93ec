using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Versioning;

/// <summary>The <c>check</c> command of the CLI, run as a user would, on databases the samples wrote.</summary>
public sealed class CheckCommandSpec(SampleDatabase samples) : IClassFixture<SampleDatabase>, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Check_SamplesOnTheirOwnCode_ExitsZeroAndChangesNoByte()
    {
        var database = samples.CopyTo(_folder);
        var before = Snapshot(database);

        var result = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--db", database);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("checked 3 unfinished workflows against the current code: 3 compatible, 0 not", result.StdoutLines[0]);
        Assert.StartsWith("exp-1 (approval, RUNNING) compatible: 2 records replay in order; the record ends at exp-1:2", result.StdoutLines[1]);
        Assert.Equal(before, Snapshot(database));
        Assert.Empty(TestSupport.Cli.Effects(_folder.Path));
    }

    [Fact]
    public async Task Check_WorkflowRecordedByOtherCode_ExitsOneNamingTheDivergence()
    {
        var database = _folder.Database;
        var registry = SampleDatabase.SamplesWithApproval(_folder, effects => new ApprovalWithFraudCheck(effects));
        var (system, coordinator) = TestSupport.Engine.Start(database, registry);
        try
        {
            var input = SampleWorkflows.DefaultInput(ApprovalWorkflow.TypeName, registry.JsonOptions);
            foreach (var id in new[] { "exp-8", "exp-9" })
                Assert.IsType<WorkflowWaiting>(await coordinator.Ask<object>(new StartWorkflow(id, ApprovalWorkflow.TypeName, input), TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await system.Terminate();
        }

        var result = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--db", database);
        var json = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--db", database, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("exp-9 (approval, RUNNING) INCOMPATIBLE: at exp-9:2 the record holds step 'fraud-check', the code asks for a wait for signal 'decision'", result.StdoutLines);
        Assert.Contains("2 × approval at key 2: the record holds step 'fraud-check', the code asks for a wait for signal 'decision': exp-8, exp-9", result.StdoutLines);
        Assert.True(json.ExitCode == 1, json.ToString());
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.False(report.GetProperty("allCompatible").GetBoolean());
        var first = report.GetProperty("workflows")[0];
        Assert.Equal("Incompatible", first.GetProperty("verdict").GetString());
        Assert.Equal("exp-8:2", first.GetProperty("key").GetString());
        Assert.Equal(["exp-8", "exp-9"], report.GetProperty("divergences")[0].GetProperty("workflowIds").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Check_All_IncludesFinishedWorkflows()
    {
        var database = samples.CopyTo(_folder);

        var result = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--db", database, "--all");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("checked 8 workflows against the current code: 8 compatible, 0 not", result.StdoutLines[0]);
        Assert.Contains("onb-1 (onboarding, COMPLETED) compatible: 5 records replay in order, and the code returns", result.StdoutLines);
    }

    [Theory]
    [InlineData("missing.db", "error: Database file '{0}' does not exist.")]
    [InlineData("text.db", "error: '{0}' is not a SQLite database.")]
    public async Task Check_NoDatabaseOfOurs_ExitsTwoWithOneLine(string name, string expected)
    {
        var path = _folder.File(name);
        if (name == "text.db")
            await File.WriteAllTextAsync(path, "not a database");

        var result = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--db", path);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, path), Assert.Single(result.StderrLines));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Check_UnknownOption_ExitsTwo()
    {
        var result = await TestSupport.Cli.RunAsync(_folder.Path, "check", "--everything");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", Assert.Single(result.StderrLines));
    }

    private static Dictionary<string, string> Snapshot(string database) =>
        SampleDatabase.Suffixes
            .Where(suffix => File.Exists(database + suffix))
            .ToDictionary(suffix => suffix, suffix => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(database + suffix))));
}
