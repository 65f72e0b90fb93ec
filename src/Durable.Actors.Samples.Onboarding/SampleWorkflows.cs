using System.Text.Json;

namespace Durable.Actors.Samples.Onboarding;

/// <summary>The samples the CLI runs.</summary>
public static class SampleWorkflows
{
    /// <summary>Registers the samples (onboarding, report, approval, report-batch, import) in <paramref name="registry"/>.</summary>
    public static WorkflowRegistry Register(WorkflowRegistry registry, EffectsLog effects) => registry
        .Add(OnboardingWorkflow.TypeName, () => new OnboardingWorkflow(effects))
        .Add(ReportWorkflow.TypeName, () => new ReportWorkflow(effects))
        .Add(ApprovalWorkflow.TypeName, () => new ApprovalWorkflow(effects))
        .Add(ReportBatchWorkflow.TypeName, () => new ReportBatchWorkflow())
        .Add(ImportWorkflow.TypeName, () => new ImportWorkflow(effects));

    /// <summary>The input a sample runs with when none is given, as JSON; null for types that are not samples.</summary>
    public static string? DefaultInput(string workflowType, JsonSerializerOptions json) => workflowType switch
    {
        OnboardingWorkflow.TypeName => JsonSerializer.Serialize(NewHire.Default, json),
        ReportWorkflow.TypeName => JsonSerializer.Serialize(ReportRequest.Default, json),
        ApprovalWorkflow.TypeName => JsonSerializer.Serialize(ExpenseRequest.Default, json),
        ReportBatchWorkflow.TypeName => JsonSerializer.Serialize(ReportBatchRequest.Default, json),
        ImportWorkflow.TypeName => JsonSerializer.Serialize(ImportRequest.Default, json),
        _ => null,
    };
}
