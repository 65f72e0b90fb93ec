namespace Durable.Actors;

/// <summary>Overloads of <see cref="IWorkflowContext.StepAsync{T}"/> for other shapes of step bodies.</summary>
public static class WorkflowContextExtensions
{
    /// <summary>Runs a synchronous step body that returns a result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}"/>
    public static Task<T> StepAsync<T>(this IWorkflowContext context, string stepId, Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync(stepId, _ => Task.FromResult(body()));
    }

    /// <summary>Runs an asynchronous step body with no result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}"/>
    public static Task StepAsync(this IWorkflowContext context, string stepId, Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync<object?>(stepId, async ct =>
        {
            await body(ct).ConfigureAwait(false);
            return null;
        });
    }

    /// <summary>Runs a synchronous step body with no result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}"/>
    public static Task StepAsync(this IWorkflowContext context, string stepId, Action body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync<object?>(stepId, _ =>
        {
            body();
            return Task.FromResult<object?>(null);
        });
    }
}
