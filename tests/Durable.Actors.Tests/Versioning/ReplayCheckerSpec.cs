using Akka.Actor;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Versioning;

public sealed class ReplayCheckerSpec(SampleDatabase samples) : IClassFixture<SampleDatabase>, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task CheckAsync_SamplesOnTheirCurrentCode_EveryUnfinishedWorkflowIsCompatible()
    {
        var database = samples.CopyTo(_folder);

        var report = await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder));

        Assert.Equal(SampleDatabase.Unfinished, report.Workflows.Select(w => w.WorkflowId));
        Assert.True(report.AllCompatible, string.Join("\n", report.Workflows));
        Assert.Empty(report.Divergences);
        Assert.Empty(report.Patches);
        var onboarding = report.Workflows.Single(w => w.WorkflowId == "onb-2");
        Assert.Contains("onb-2:2.1", onboarding.Detail);
        Assert.Contains("waiting for signal 'decision'", report.Workflows[0].Detail);
        Assert.Empty(TestSupport.Cli.Effects(_folder.Path));
    }

    [Fact]
    public async Task CheckAsync_IncludeFinished_ReplaysCompletedWorkflowsAndTheirChildrenToTheirEnd()
    {
        var database = samples.CopyTo(_folder);

        var report = await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder), new ReplayCheckOptions { IncludeFinished = true });

        Assert.Equal(["batch-1", "batch-1/1", "batch-1/2", "batch-1/3", "exp-1", "exp-2", "onb-1", "onb-2"], report.Workflows.Select(w => w.WorkflowId));
        Assert.True(report.AllCompatible, string.Join("\n", report.Workflows));
        Assert.EndsWith("the code returns", report.Workflows.Single(w => w.WorkflowId == "batch-1").Detail);
        Assert.Empty(TestSupport.Cli.Effects(_folder.Path));
    }

    [Fact]
    public async Task CheckAsync_IncompatibleChangeToTheApprovalSample_IsCaughtAndGroupedByTheFirstDivergence()
    {
        var database = samples.CopyTo(_folder);
        var registry = SampleDatabase.SamplesWithApproval(_folder, effects => new ApprovalWithFraudCheck(effects));

        var report = await WorkflowReplayChecker.CheckAsync(database, registry);

        Assert.False(report.AllCompatible);
        var exp1 = report.Workflows.Single(w => w.WorkflowId == "exp-1");
        Assert.Equal(ReplayVerdict.Incompatible, exp1.Verdict);
        Assert.Equal("exp-1:2", exp1.Key);
        Assert.Equal("at exp-1:2 the record holds a wait for signal 'decision', the code asks for step 'fraud-check'", exp1.Detail);
        var group = Assert.Single(report.Divergences);
        Assert.Equal(["exp-1", "exp-2"], group.WorkflowIds);
        Assert.Equal("approval at key 2: the record holds a wait for signal 'decision', the code asks for step 'fraud-check'", group.Divergence);
        Assert.True(report.Workflows.Single(w => w.WorkflowId == "onb-2").IsCompatible);
        Assert.Empty(TestSupport.Cli.Effects(_folder.Path));
    }

    [Fact]
    public async Task CheckAsync_PatchedChange_IsAcceptedAndThePatchReportCountsWhoStillNeedsTheOldPath()
    {
        var database = samples.CopyTo(_folder);
        var registry = SampleDatabase.SamplesWithApproval(_folder, effects => new ApprovalWithPatchedFraudCheck(effects));
        // A workflow started on the patched code takes the new path and records the marker.
        var (system, coordinator) = TestSupport.Engine.Start(database, registry);
        try
        {
            var input = SampleWorkflows.DefaultInput(ApprovalWorkflow.TypeName, registry.JsonOptions);
            var reply = await coordinator.Ask<object>(new StartWorkflow("exp-3", ApprovalWorkflow.TypeName, input), TimeSpan.FromSeconds(30));
            Assert.IsType<WorkflowWaiting>(reply);
        }
        finally
        {
            await system.Terminate();
        }

        var report = await WorkflowReplayChecker.CheckAsync(database, registry);

        Assert.True(report.AllCompatible, string.Join("\n", report.Workflows));
        var patch = Assert.Single(report.Patches);
        Assert.Equal("fraud-check", patch.PatchId);
        Assert.Equal(["exp-1", "exp-2"], patch.OldPath);
        Assert.Equal(["exp-3"], patch.NewPath);
        // The sample's own code, which has no fraud check, cannot replay exp-3: the patch's new path is recorded.
        var unpatched = await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder));
        var exp3 = unpatched.Workflows.Single(w => w.WorkflowId == "exp-3");
        Assert.Equal(ReplayVerdict.Incompatible, exp3.Verdict);
        Assert.Contains("step 'fraud-check'", exp3.Detail);
    }

    [Fact]
    public async Task CheckAsync_DatabaseLeftByACrash_LeavesTheFileAndItsWalAndShmByteIdentical()
    {
        var database = samples.CopyTo(_folder);
        Assert.True(File.Exists(database + "-wal"), "the crash should have left a -wal file");
        var before = Snapshot(database);

        await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder), new ReplayCheckOptions { IncludeFinished = true });

        Assert.Equal(before, Snapshot(database));
    }

    [Fact]
    public async Task CheckAsync_CheckpointedDatabase_LeavesTheFileByteIdenticalAndCreatesNoWalOrShm()
    {
        var database = samples.CopyTo(_folder);
        using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }
        Assert.False(File.Exists(database + "-wal"));
        var before = Snapshot(database);

        var report = await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder), new ReplayCheckOptions { IncludeFinished = true });

        Assert.Equal(8, report.Workflows.Count);
        Assert.Equal(before, Snapshot(database));
    }

    [Fact]
    public async Task CheckAsync_TypeMissingOrInputNoLongerReads_ReportsEachWorkflowAndChecksTheOthers()
    {
        var database = samples.CopyTo(_folder);
        var effects = new EffectsLog(_folder.File("effects.log"));
        var registry = new WorkflowRegistry()
            .Add(OnboardingWorkflow.TypeName, () => new FuncWorkflow<NewHireWithCostCenter, string>((_, _) => Task.FromResult("x")))
            .Add(ReportWorkflow.TypeName, () => new ReportWorkflow(effects));

        var report = await WorkflowReplayChecker.CheckAsync(database, registry);

        Assert.Equal(SampleDatabase.Unfinished, report.Workflows.Select(w => w.WorkflowId));
        Assert.All(report.Workflows.Take(2), w => Assert.Equal(ReplayVerdict.TypeNotRegistered, w.Verdict));
        Assert.StartsWith("workflow type 'approval' is not registered (registered: onboarding, report)", report.Workflows[0].Detail);
        var onboarding = report.Workflows[2];
        Assert.Equal(ReplayVerdict.InputUnreadable, onboarding.Verdict);
        Assert.Contains("NewHireWithCostCenter", onboarding.Detail);
        Assert.Equal(2, report.Divergences.Count);
    }

    [Fact]
    public async Task CheckAsync_AWorkflowWhoseEventsAreNotOurs_IsReportedAndTheOthersAreChecked()
    {
        var database = samples.CopyTo(_folder);
        using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier)
                VALUES (0, 0, 'workflow-alien', 1, x'7B7D', 'Foo', 1)
                """;
            insert.ExecuteNonQuery();
        }

        var report = await WorkflowReplayChecker.CheckAsync(database, SampleDatabase.Samples(_folder));

        var alien = report.Workflows.Single(w => w.WorkflowId == "alien");
        Assert.Equal(ReplayVerdict.JournalUnreadable, alien.Verdict);
        Assert.Contains("serializer 1", alien.Detail);
        Assert.All(report.Workflows.Where(w => w.WorkflowId != "alien"), w => Assert.True(w.IsCompatible, w.ToString()));
    }

    [Fact]
    public async Task CheckAsync_MissingOrForeignDatabase_ThrowsNamingTheFile()
    {
        var registry = SampleDatabase.Samples(_folder);
        var missing = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => WorkflowReplayChecker.CheckAsync(_folder.File("nope.db"), registry));
        Assert.Contains("does not exist", missing.Message);

        var foreign = _folder.File("shop.db");
        using (var connection = new SqliteConnection($"Data Source={foreign};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE orders (id INTEGER)";
            create.ExecuteNonQuery();
        }
        var notOurs = await Assert.ThrowsAsync<DatabaseUnavailableException>(() => WorkflowReplayChecker.CheckAsync(foreign, registry));
        Assert.Contains("is not a Durable.Actors database", notOurs.Message);
        Assert.Contains("orders", notOurs.Message);
    }

    private static Dictionary<string, string> Snapshot(string database) =>
        SampleDatabase.Suffixes
            .Where(suffix => File.Exists(database + suffix))
            .ToDictionary(suffix => suffix, suffix => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(database + suffix))));

    public sealed record NewHireWithCostCenter(string Name, string Email, string CostCenter);
}
