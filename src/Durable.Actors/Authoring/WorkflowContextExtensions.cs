using System.Runtime.CompilerServices;

namespace Durable.Actors;

/// <summary>Overloads of <see cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/> for other shapes of step bodies.</summary>
public static class WorkflowContextExtensions
{
    /// <summary>Runs a synchronous step body that returns a result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>
    public static Task<T> StepAsync<T>(this IWorkflowContext context, string stepId, Func<T> body, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync(stepId, _ => Task.FromResult(body()), retry);
    }

    /// <summary>
    /// Runs an asynchronous step body that returns a result and takes no token (<c>async () => ...</c>): the step ends
    /// when the body's task ends, with its result.
    /// </summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>
    /// <remarks>Preferred over <see cref="StepAsync{T}(IWorkflowContext, string, Func{T}, RetryPolicy?)"/> wherever both fit (a lambda that only throws).</remarks>
    [OverloadResolutionPriority(1)]
    public static Task<T> StepAsync<T>(this IWorkflowContext context, string stepId, Func<Task<T>> body, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync(stepId, _ => body(), retry);
    }

    /// <summary>
    /// Runs an asynchronous step body with no result that takes no token (<c>async () => { ... }</c>): the step ends
    /// when the body's task ends, and fails when it throws.
    /// </summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>
    /// <remarks>Preferred over <see cref="StepAsync(IWorkflowContext, string, Action, RetryPolicy?)"/> wherever both fit (a lambda that only throws).</remarks>
    [OverloadResolutionPriority(1)]
    public static Task StepAsync(this IWorkflowContext context, string stepId, Func<Task> body, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync(stepId, _ => body(), retry);
    }

    /// <summary>Runs an asynchronous step body with no result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>
    public static Task StepAsync(this IWorkflowContext context, string stepId, Func<CancellationToken, Task> body, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync<object?>(stepId, async ct =>
        {
            await body(ct).ConfigureAwait(false);
            return null;
        }, retry);
    }

    /// <summary>Runs a step body with no result, with <paramref name="options"/> (a retry policy, a timeout per attempt).</summary>
    public static Task StepAsync(this IWorkflowContext context, string stepId, Func<CancellationToken, Task> body, StepOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync<object?>(stepId, async ct =>
        {
            await body(ct).ConfigureAwait(false);
            return null;
        }, options);
    }

    /// <summary>Runs a synchronous step body with no result.</summary>
    /// <inheritdoc cref="IWorkflowContext.StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>
    public static Task StepAsync(this IWorkflowContext context, string stepId, Action body, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        return context.StepAsync<object?>(stepId, _ =>
        {
            body();
            return Task.FromResult<object?>(null);
        }, retry);
    }

    /// <summary>Runs two branches in parallel and returns both results.</summary>
    /// <inheritdoc cref="IWorkflowContext.ParallelAsync{T}"/>
    public static async Task<(T1, T2)> ParallelAsync<T1, T2>(
        this IWorkflowContext context, Func<IWorkflowContext, Task<T1>> first, Func<IWorkflowContext, Task<T2>> second)
    {
        ArgumentNullException.ThrowIfNull(context);
        var results = await context.ParallelAsync<object?>([Erase(first), Erase(second)]).ConfigureAwait(false);
        return ((T1)results[0]!, (T2)results[1]!);
    }

    /// <summary>Runs three branches in parallel and returns their results.</summary>
    /// <inheritdoc cref="IWorkflowContext.ParallelAsync{T}"/>
    public static async Task<(T1, T2, T3)> ParallelAsync<T1, T2, T3>(
        this IWorkflowContext context, Func<IWorkflowContext, Task<T1>> first, Func<IWorkflowContext, Task<T2>> second, Func<IWorkflowContext, Task<T3>> third)
    {
        ArgumentNullException.ThrowIfNull(context);
        var results = await context.ParallelAsync<object?>([Erase(first), Erase(second), Erase(third)]).ConfigureAwait(false);
        return ((T1)results[0]!, (T2)results[1]!, (T3)results[2]!);
    }

    /// <summary>Runs branches with no result in parallel.</summary>
    /// <inheritdoc cref="IWorkflowContext.ParallelAsync{T}"/>
    public static Task ParallelAsync(this IWorkflowContext context, params Func<IWorkflowContext, Task>[] branches)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(branches);
        return context.ParallelAsync<object?>(branches.Select(branch => (Func<IWorkflowContext, Task<object?>>)(async c =>
        {
            await branch(c).ConfigureAwait(false);
            return null;
        })).ToList());
    }

    /// <summary>Fans out: runs one branch per item in parallel and returns the results in the items' order.</summary>
    /// <inheritdoc cref="IWorkflowContext.ParallelAsync{T}"/>
    /// <remarks>The items must be the same, in the same order, on every run. No items: no branch and no reservation.</remarks>
    public static Task<IReadOnlyList<TResult>> ForEachParallelAsync<TItem, TResult>(
        this IWorkflowContext context, IEnumerable<TItem> items, Func<IWorkflowContext, TItem, Task<TResult>> branch)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(branch);
        return context.ParallelAsync(items.Select(item => (Func<IWorkflowContext, Task<TResult>>)(c => branch(c, item))).ToList());
    }

    private static Func<IWorkflowContext, Task<object?>> Erase<T>(Func<IWorkflowContext, Task<T>> branch)
    {
        ArgumentNullException.ThrowIfNull(branch);
        return async c => await branch(c).ConfigureAwait(false);
    }
}
