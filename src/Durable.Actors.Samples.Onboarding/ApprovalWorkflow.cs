namespace Durable.Actors.Samples.Onboarding;

/// <summary>An expense to approve.</summary>
/// <param name="Amount">The amount claimed.</param>
/// <param name="Submitter">Who claims it.</param>
/// <param name="Timeout">How long to wait for a decision before escalating.</param>
public sealed record ExpenseRequest(decimal Amount, string Submitter, TimeSpan Timeout)
{
    /// <summary>The input used when none is given: 3 days to decide.</summary>
    public static ExpenseRequest Default { get; } = new(120.50m, "Ada Lovelace", TimeSpan.FromDays(3));
}

/// <summary>The payload of the <c>decision</c> signal.</summary>
/// <param name="Approved">Whether the expense is approved.</param>
/// <param name="By">Who decided.</param>
public sealed record ExpenseDecision(bool Approved, string By);

/// <summary>
/// The approval sample: submit the expense, wait (durably, for days if need be) for a person's decision sent as the
/// signal <c>decision</c>, then pay or reject it, or escalate when no decision came in time.
/// </summary>
/// <param name="effects">Where each real execution of a step leaves its line.</param>
public sealed class ApprovalWorkflow(EffectsLog effects) : IWorkflow<ExpenseRequest, string>
{
    /// <summary>The name the sample is registered under.</summary>
    public const string TypeName = "approval";

    /// <summary>The signal the workflow waits for.</summary>
    public const string DecisionSignal = "decision";

    /// <inheritdoc />
    public async Task<string> RunAsync(IWorkflowContext context, ExpenseRequest input)
    {
        await Step(context, "submit-expense");
        var decision = await context.WaitForSignalAsync<ExpenseDecision>(DecisionSignal, input.Timeout);
        if (decision.TimedOut)
        {
            await Step(context, "escalate");
            return "escalated";
        }
        var by = decision.Payload!.By;
        if (decision.Payload.Approved)
        {
            await Step(context, "pay");
            return $"paid {input.Amount} to {input.Submitter}, approved by {by}";
        }
        await Step(context, "reject");
        return $"rejected by {by}";
    }

    private Task Step(IWorkflowContext context, string stepId) =>
        context.StepAsync(stepId, ct => effects.AppendAsync(context.WorkflowId, stepId, ct));
}
