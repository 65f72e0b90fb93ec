namespace Durable.Actors.Samples.Onboarding;

/// <summary>How many reports to build, and their shape.</summary>
/// <param name="Reports">The number of child report workflows, run one after another.</param>
/// <param name="Report">The input of each report.</param>
public sealed record ReportBatchRequest(int Reports, ReportRequest Report)
{
    /// <summary>The input used when none is given: three reports of ten sections.</summary>
    public static ReportBatchRequest Default { get; } = new(3, ReportRequest.Default);
}

/// <summary>
/// A sample of child workflows: runs <see cref="ReportWorkflow"/> as a child once per report (ids
/// <c>&lt;workflowId&gt;/1</c>, <c>/2</c>, …) and adds up their results. A crash while a child runs re-attaches the
/// parent to the same child on resume; no child is started twice.
/// </summary>
public sealed class ReportBatchWorkflow : IWorkflow<ReportBatchRequest, int>
{
    /// <summary>The name the sample is registered under.</summary>
    public const string TypeName = "report-batch";

    /// <inheritdoc />
    public async Task<int> RunAsync(IWorkflowContext context, ReportBatchRequest input)
    {
        var total = 0;
        for (var report = 1; report <= input.Reports; report++)
            total += await context.RunChildAsync<ReportRequest, int>(ReportWorkflow.TypeName, input.Report);
        return total;
    }
}
