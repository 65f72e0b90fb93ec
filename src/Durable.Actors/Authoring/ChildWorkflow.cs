namespace Durable.Actors;

/// <summary>A child workflow started by <see cref="IWorkflowContext.StartChildAsync{TInput, TResult}"/>.</summary>
/// <typeparam name="TResult">The child's result.</typeparam>
public sealed class ChildWorkflow<TResult>
{
    private readonly Func<CancellationToken, Task<TResult>> _result;

    internal ChildWorkflow(string childId, Func<CancellationToken, Task<TResult>> result)
    {
        ChildId = childId;
        _result = result;
    }

    /// <summary>The child's workflow id.</summary>
    public string ChildId { get; }

    /// <summary>
    /// Waits durably for the child's result, like a signal wait (it takes the next key of the workflow's code where it
    /// is called: call it in the same place on every run). Throws <see cref="ChildWorkflowFailedException"/> naming the
    /// child when it failed or was cancelled.
    /// </summary>
    /// <param name="cancellationToken">
    /// Stops waiting (recorded: a replay stops there too) and throws <see cref="OperationCanceledException"/>; the child
    /// goes on. By default the wait ends with the workflow's cancellation, or in a branch with its branch.
    /// </param>
    public Task<TResult> GetResultAsync(CancellationToken cancellationToken = default) => _result(cancellationToken);
}
