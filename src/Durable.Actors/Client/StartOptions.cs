namespace Durable.Actors;

/// <summary>How a workflow is started by <see cref="WorkflowClient.StartAsync{TInput, TResult}(string, string, TInput, StartOptions, CancellationToken)"/>.</summary>
public sealed record StartOptions
{
    /// <summary>No options.</summary>
    public static StartOptions Default { get; } = new();

    /// <summary>
    /// How long the workflow may take from its first start: once it passed, the workflow is cancelled with a reason
    /// that says it timed out (its cleanup code runs), and so are its children, which inherit the deadline. Null for no
    /// limit; it must be more than zero. Starting an existing id changes nothing.
    /// </summary>
    public TimeSpan? Timeout { get; init; }
}
