using System.Globalization;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Testing;

/// <summary>The kit's in-process crash leaves the journal as a real SIGKILL of the CLI at the same point does.</summary>
public sealed class InProcessCrashSpec
{
    [Fact]
    public async Task CrashAtEachStepStart_SameJournalAsSigkillOfTheCli()
    {
        using var folder = new TempFolder();
        var inProcess = Directory.CreateDirectory(folder.File("in-process")).FullName;
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));
        var report = await CrashTest.RunAsync(registry, ReportWorkflow.TypeName, ReportRequest.Default,
            new CrashTestOptions { WorkflowId = "long", CrashAfterStepBodies = false, Folder = inProcess, KeepCrashedCopies = true });
        Assert.True(report.Passed, report.ToString());

        for (var n = 1; n <= 10; n++)
        {
            // The CLI kills itself once the n-th step's IN_PROGRESS record is durable; in process, the crash after the
            // journal write that made it durable.
            var cli = Directory.CreateDirectory(folder.File($"cli-{n}")).FullName;
            var killed = await TestSupport.Cli.RunAsync(cli, "crash-after", "long", n.ToString(CultureInfo.InvariantCulture), "--type", "report");
            Assert.True(killed.ExitCode == 137, killed.ToString());
            var killedState = await JournalStateAsync(Path.Combine(cli, "durable.db"));
            Assert.Equal(
                ["long RUNNING", .. Enumerable.Range(1, n - 1).Select(i => $"long:{i} section-{i} COMPLETED attempts 1"), $"long:{n} section-{n} IN_PROGRESS attempts 1"],
                killedState);

            // Each crashed run whose last write started step n. Usually one; two when a run wrote the previous step's
            // completion on its own (the idle flush: its next step's start came more than 10 ms later on a loaded machine),
            // so that the completion and the start were two writes.
            var runs = report.Runs.Where(r => r.CrashStepKey == $"long:{n}").ToList();
            Assert.NotEmpty(runs);
            foreach (var run in runs)
                Assert.Equal(killedState, await JournalStateAsync(Path.Combine(inProcess, $"crashed-write-{run.AfterWrite}.db")));
        }
    }

    /// <summary>What a user checks after a crash: each workflow's status, and each step's id, status and attempts.</summary>
    private static async Task<string[]> JournalStateAsync(string database)
    {
        var reader = Akka.Actor.ActorSystem.Create("reader", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(database)));
        try
        {
            var workflows = await DurableWorkflows.ListAsync(reader);
            return [.. workflows.SelectMany(w => (IEnumerable<string>)[
                $"{w.WorkflowId} {Upper(w.Status)}",
                .. w.Steps.Select(s => $"{s.Key} {s.StepId} {Upper(s.Status)} attempts {s.Attempts}")])];
        }
        finally
        {
            await reader.Terminate();
        }
    }

    private static string Upper<T>(T value) where T : Enum => value.ToString() switch
    {
        "InProgress" => "IN_PROGRESS",
        var text => text.ToUpperInvariant(),
    };
}
