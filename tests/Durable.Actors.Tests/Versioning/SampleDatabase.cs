using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Versioning;

/// <summary>
/// A database the samples wrote through the real CLI, built once per test class: two approvals waiting for their
/// decision, a completed onboarding, a completed report batch with its three child reports, and an onboarding killed
/// inside its parallel block (so its -wal and -shm are left, as after a crash). Each test works on its own copy.
/// </summary>
public sealed class SampleDatabase : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();

    /// <summary>The database file and the files SQLite keeps beside it in WAL mode.</summary>
    public static readonly string[] Suffixes = ["", "-wal", "-shm"];

    public static readonly string[] Unfinished = ["exp-1", "exp-2", "onb-2"];

    public async Task InitializeAsync()
    {
        await Run("start", "exp-1", "exp-2", "--type", "approval");
        await Run("start", "onb-1");
        await Run("start", "batch-1", "--type", "report-batch");
        await Run("crash-after", "onb-2", "3");
    }

    private async Task Run(params string[] args)
    {
        var result = await TestSupport.Cli.RunAsync(_folder.Path, args);
        Assert.True(result.ExitCode is 0 or 3 || args[0] == "crash-after", result.ToString());
    }

    /// <summary>Copies the database and its -wal/-shm into <paramref name="folder"/>; returns the copy's path.</summary>
    public string CopyTo(TempFolder folder)
    {
        foreach (var suffix in Suffixes)
        {
            if (File.Exists(_folder.Database + suffix))
                File.Copy(_folder.Database + suffix, folder.Database + suffix);
        }
        return folder.Database;
    }

    public static WorkflowRegistry Samples(TempFolder folder) =>
        SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog(folder.File("effects.log")));

    /// <summary>The samples with <paramref name="approval"/> registered as "approval" instead of the sample's own class.</summary>
    public static WorkflowRegistry SamplesWithApproval(TempFolder folder, Func<EffectsLog, IWorkflow<ExpenseRequest, string>> approval)
    {
        var effects = new EffectsLog(folder.File("effects.log"));
        return new WorkflowRegistry()
            .Add(OnboardingWorkflow.TypeName, () => new OnboardingWorkflow(effects))
            .Add(ReportWorkflow.TypeName, () => new ReportWorkflow(effects))
            .Add(ReportBatchWorkflow.TypeName, () => new ReportBatchWorkflow())
            .Add(ApprovalWorkflow.TypeName, () => approval(effects));
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The approval sample changed without care: a fraud check inserted before the wait for the decision.</summary>
public sealed class ApprovalWithFraudCheck(EffectsLog effects) : IWorkflow<ExpenseRequest, string>
{
    public async Task<string> RunAsync(IWorkflowContext context, ExpenseRequest input)
    {
        await Step(context, "submit-expense");
        await Step(context, "fraud-check");
        var decision = await context.WaitForSignalAsync<ExpenseDecision>(ApprovalWorkflow.DecisionSignal, input.Timeout);
        if (decision.TimedOut)
        {
            await Step(context, "escalate");
            return "escalated";
        }
        await Step(context, decision.Payload!.Approved ? "pay" : "reject");
        return decision.Payload.Approved ? $"paid {input.Amount} to {input.Submitter}, approved by {decision.Payload.By}" : $"rejected by {decision.Payload.By}";
    }

    private Task Step(IWorkflowContext context, string stepId) =>
        context.StepAsync(stepId, ct => effects.AppendAsync(context.WorkflowId, stepId, ct));
}

/// <summary>The same change behind a patch: workflows already past the submit keep the old path.</summary>
public sealed class ApprovalWithPatchedFraudCheck(EffectsLog effects) : IWorkflow<ExpenseRequest, string>
{
    public async Task<string> RunAsync(IWorkflowContext context, ExpenseRequest input)
    {
        await Step(context, "submit-expense");
        if (await context.PatchedAsync("fraud-check"))
            await Step(context, "fraud-check");
        var decision = await context.WaitForSignalAsync<ExpenseDecision>(ApprovalWorkflow.DecisionSignal, input.Timeout);
        if (decision.TimedOut)
        {
            await Step(context, "escalate");
            return "escalated";
        }
        await Step(context, decision.Payload!.Approved ? "pay" : "reject");
        return decision.Payload.Approved ? $"paid {input.Amount} to {input.Submitter}, approved by {decision.Payload.By}" : $"rejected by {decision.Payload.By}";
    }

    private Task Step(IWorkflowContext context, string stepId) =>
        context.StepAsync(stepId, ct => effects.AppendAsync(context.WorkflowId, stepId, ct));
}
