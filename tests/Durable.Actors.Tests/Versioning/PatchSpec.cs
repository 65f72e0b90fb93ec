using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Versioning;

public sealed class PatchSpec(ITestOutputHelper output) : EngineSpec(output)
{
    // v1 ships then charges; v2 charges first behind the patch; v3 removed the patch (only the new path is left).
    private int _version = 1;
    private bool _failAtEnd = true;
    private readonly EffectRecorder _counter = new();

    private WorkflowRegistry Registry() => new WorkflowRegistry().Add<string, string>("order", async (ctx, _) =>
    {
        await ctx.StepAsync("reserve", () => _counter.Record("reserve"));
        if (_version == 1)
            await ShipThenCharge(ctx);
        else if (_version == 2 && !await ctx.PatchedAsync("charge-before-ship"))
            await ShipThenCharge(ctx);
        else
        {
            await ctx.StepAsync("charge", () => _counter.Record("charge"));
            await ctx.StepAsync("ship", () => _counter.Record("ship"));
        }
        // A first run that fails after its steps makes the resume replay them (a completed workflow never runs again).
        return _failAtEnd ? throw new InvalidOperationException("failed after the steps") : "done";
    });

    private async Task ShipThenCharge(IWorkflowContext ctx)
    {
        await ctx.StepAsync("ship", () => _counter.Record("ship"));
        await ctx.StepAsync("charge", () => _counter.Record("charge"));
    }

    private async Task<WorkflowStatus> RunThenResumeAsync(string id, int firstVersion, int resumeVersion)
    {
        var coordinator = StartEngine(Registry());
        _version = firstVersion;
        coordinator.Tell(new StartWorkflow(id, "order"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        _version = resumeVersion;
        _failAtEnd = false;
        coordinator.Tell(new ResumeWorkflow(id), TestActor);
        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal("\"done\"", completed.ResultJson);
        return (await DurableWorkflows.GetStatusAsync(Sys, id))!;
    }

    [Fact]
    public async Task PatchedAsync_WorkflowStartedOnOldCode_KeepsTheOldPathOnReplay()
    {
        var status = await RunThenResumeAsync("old-1", firstVersion: 1, resumeVersion: 2);

        Assert.Equal(["reserve", "ship", "charge"], status.Steps.Select(s => s.StepId));
        Assert.Equal(1, _counter.Count("ship"));
        Assert.Equal(1, _counter.Count("charge"));
    }

    [Fact]
    public async Task PatchedAsync_NewWorkflow_RecordsAMarkerAndTakesTheNewPathOnEveryRun()
    {
        var status = await RunThenResumeAsync("new-1", firstVersion: 2, resumeVersion: 2);

        Assert.Equal(["reserve", "durable.patch:charge-before-ship", "charge", "ship"], status.Steps.Select(s => s.StepId));
        Assert.Equal("new-1:2", status.Steps[1].Key);
        Assert.Equal(1, _counter.Count("charge"));
        Assert.Equal(1, _counter.Count("ship"));
    }

    [Fact]
    public async Task PatchRemoved_WorkflowThatRecordedTheMarker_StepsOverIt()
    {
        var status = await RunThenResumeAsync("removed-1", firstVersion: 2, resumeVersion: 3);

        Assert.Equal(["reserve", "durable.patch:charge-before-ship", "charge", "ship"], status.Steps.Select(s => s.StepId));
        Assert.Equal(1, _counter.Count("charge"));
        Assert.Equal(1, _counter.Count("ship"));
    }

    [Fact]
    public async Task OldPathRemovedTooEarly_WorkflowOnTheOldPath_StillFailsAsNondeterministic()
    {
        var coordinator = StartEngine(Registry());
        coordinator.Tell(new StartWorkflow("early-1", "order"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        _version = 3;
        _failAtEnd = false;
        coordinator.Tell(new ResumeWorkflow("early-1"), TestActor);

        var failed = await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        Assert.Contains("'early-1:2'", failed.Error);
        Assert.Contains("'ship'", failed.Error);
        Assert.Contains("'charge'", failed.Error);
        Assert.Equal(1, _counter.Count("charge"));
        Assert.Equal(1, _counter.Count("ship"));
    }

    [Fact]
    public async Task PatchedAsync_InParallelBranches_DecidesPerBranchKey()
    {
        var version = 1;
        var fail = true;
        var counter = new EffectRecorder();
        var registry = new WorkflowRegistry().Add<string, string>("fan-out", async (ctx, _) =>
        {
            async Task<string> Branch(IWorkflowContext b, string name)
            {
                if (version == 2 && name == "b" && await b.PatchedAsync("audit"))
                    await b.StepAsync($"audited-{name}", () => counter.Record($"audited-{name}"));
                else
                    await b.StepAsync($"plain-{name}", () => counter.Record($"plain-{name}"));
                return name;
            }
            // Branch a is from the old code, branch b of a workflow started after the change takes the new path.
            var (a, b) = await ctx.ParallelAsync(c => Branch(c, "a"), c => Branch(c, "b"));
            if (version == 2 && await ctx.PatchedAsync("audit"))
                await ctx.StepAsync("audit-summary", () => counter.Record("audit-summary"));
            return fail ? throw new InvalidOperationException("failed after the block") : "done";
        });
        var coordinator = StartEngine(registry);
        coordinator.Tell(new StartWorkflow("fan-old", "fan-out"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);
        version = 2;
        coordinator.Tell(new StartWorkflow("fan-new", "fan-out"), TestActor);
        await ExpectMsgAsync<WorkflowFailed>(RunTimeout);

        fail = false;
        coordinator.Tell(new ResumeWorkflow("fan-old"), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        coordinator.Tell(new ResumeWorkflow("fan-new"), TestActor);
        await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);

        var old = (await DurableWorkflows.GetStatusAsync(Sys, "fan-old"))!;
        var fresh = (await DurableWorkflows.GetStatusAsync(Sys, "fan-new"))!;
        // The old workflow: its branches replay their old steps; after the block nothing was recorded, so it goes new.
        Assert.Equal(["plain-a", "plain-b", "durable.patch:audit", "audit-summary"], old.Steps.Select(s => s.StepId));
        Assert.Equal(["plain-a", "durable.patch:audit", "audited-b", "durable.patch:audit", "audit-summary"], fresh.Steps.Select(s => s.StepId));
        Assert.Equal("fan-new:2.1", fresh.Steps[1].Key);
        Assert.Equal("fan-new:2.2", fresh.Steps[2].Key);
        Assert.Equal(2, counter.Count("plain-a"));
        Assert.Equal(1, counter.Count("plain-b"));
        Assert.Equal(1, counter.Count("audited-b"));
        Assert.Equal(2, counter.Count("audit-summary"));
    }

    [Fact]
    public async Task PatchedAsync_InAChildWorkflow_IsDecidedAndRecordedInTheChildsOwnJournal()
    {
        var registry = new WorkflowRegistry()
            .Add<int, int>("child", async (ctx, n) => await ctx.PatchedAsync("triple")
                ? await ctx.StepAsync("triple", () => n * 3)
                : await ctx.StepAsync("double", () => n * 2))
            .Add<int, int>("parent", async (ctx, n) => await ctx.RunChildAsync<int, int>("child", n));
        var coordinator = StartEngine(registry);

        coordinator.Tell(new StartWorkflow("p-1", "parent", "7"), TestActor);

        var completed = await ExpectMsgAsync<WorkflowCompleted>(RunTimeout);
        Assert.Equal(21, completed.GetResult<int>());
        var child = (await DurableWorkflows.GetStatusAsync(Sys, "p-1/1"))!;
        Assert.Equal(["durable.patch:triple", "triple"], child.Steps.Select(s => s.StepId));
        var parent = (await DurableWorkflows.GetStatusAsync(Sys, "p-1"))!;
        Assert.DoesNotContain(parent.Steps, s => s.StepId.StartsWith("durable.patch:", StringComparison.Ordinal));
    }
}
