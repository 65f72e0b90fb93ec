namespace Durable.Actors.Samples.Onboarding;

/// <summary>How many sections the report has, and how long each takes to write.</summary>
/// <param name="Sections">The number of sequential steps, one per section.</param>
/// <param name="WorkMilliseconds">How long writing one section takes before its effect is logged (default none).</param>
public sealed record ReportRequest(int Sections, int WorkMilliseconds = 0)
{
    /// <summary>The input used when none is given.</summary>
    public static ReportRequest Default { get; } = new(10);
}

/// <summary>
/// A longer sample: builds a report section by section, one sequential step per section, each leaving its line in the
/// effects log. Used to exercise crashes at every step and many workflows at once.
/// </summary>
/// <param name="effects">Where each real execution of a step leaves its line.</param>
public sealed class ReportWorkflow(EffectsLog effects) : IWorkflow<ReportRequest, int>
{
    /// <summary>The name the sample is registered under.</summary>
    public const string TypeName = "report";

    /// <inheritdoc />
    public async Task<int> RunAsync(IWorkflowContext context, ReportRequest input)
    {
        var total = 0;
        for (var section = 1; section <= input.Sections; section++)
        {
            var stepId = $"section-{section}";
            var number = section;
#pragma warning disable DURABLE0008 // The id names the section in the journal and the effects log; it comes from the loop counter, the same on every run.
            total += await context.StepAsync(stepId, async ct =>
#pragma warning restore DURABLE0008
            {
                if (input.WorkMilliseconds > 0)
                    await Task.Delay(input.WorkMilliseconds, ct);
                await effects.AppendAsync(context.WorkflowId, stepId, ct);
                return number * number;
            });
        }
        return total;
    }
}
