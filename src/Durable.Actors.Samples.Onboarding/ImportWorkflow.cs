namespace Durable.Actors.Samples.Onboarding;

/// <summary>How many rows to import, how long each takes, and how long the import may go without a heartbeat.</summary>
/// <param name="Rows">The rows to import, one after another, in one step.</param>
/// <param name="RowMilliseconds">How long importing one row takes before its effect is logged (default none).</param>
/// <param name="HeartbeatSeconds">The step's heartbeat timeout (<see cref="StepOptions.HeartbeatTimeout"/>).</param>
public sealed record ImportRequest(int Rows, int RowMilliseconds = 0, int HeartbeatSeconds = 30)
{
    /// <summary>The input used when none is given.</summary>
    public static ImportRequest Default { get; } = new(100);
}

/// <summary>What the import did.</summary>
/// <param name="Rows">The rows imported.</param>
/// <param name="FromRow">The row the attempt that finished began with: 1, or the one after the last row an earlier attempt recorded.</param>
/// <param name="Attempt">That attempt.</param>
public sealed record ImportResult(int Rows, int FromRow, int Attempt);

/// <summary>
/// A long step that reports progress: imports rows one at a time in one step with a heartbeat timeout, and records the
/// last row done with each heartbeat. When an attempt stops (its process hangs or dies, a row fails), the next one goes
/// on after the last row recorded instead of starting over. Each row leaves a line <c>&lt;workflowId&gt; row-&lt;n&gt;</c>
/// in the effects log. Once imported, it sets the custom attributes <c>rows</c> (the rows imported) and <c>resumed</c>
/// (whether an attempt went on after another's last heartbeat), which <c>list --where rows&gt;=100</c> filters on.
/// </summary>
/// <param name="effects">Where each real import of a row leaves its line.</param>
public sealed class ImportWorkflow(EffectsLog effects) : IWorkflow<ImportRequest, ImportResult>
{
    /// <summary>The name the sample is registered under.</summary>
    public const string TypeName = "import";

    /// <inheritdoc />
    public async Task<ImportResult> RunAsync(IWorkflowContext context, ImportRequest input)
    {
        var result = await context.StepAsync("import-rows", async ct =>
        {
            var step = StepExecution.Current;
            var from = step.GetHeartbeatDetails<int>() + 1;
            for (var row = from; row <= input.Rows; row++)
            {
                if (input.RowMilliseconds > 0)
                    await Task.Delay(input.RowMilliseconds, ct);
                await effects.AppendAsync(context.WorkflowId, $"row-{row}", ct);
                step.Heartbeat(row);
            }
            return new ImportResult(input.Rows, from, step.Attempt);
        }, new StepOptions { HeartbeatTimeout = TimeSpan.FromSeconds(input.HeartbeatSeconds) });
        await context.SetAttributesAsync(new Dictionary<string, object?> { ["rows"] = result.Rows, ["resumed"] = result.FromRow > 1 });
        return result;
    }
}
