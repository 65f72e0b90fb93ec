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

/// <summary>How <see cref="WorkflowClient.ForkAsync{TResult}(string, ForkOptions?, CancellationToken)"/> forks a workflow.</summary>
public sealed record ForkOptions
{
    /// <summary>
    /// The source's operation to run again, and all that follows it: its key (<c>order-7:4</c>) or sequence (<c>4</c>,
    /// <c>3.2</c>), as <see cref="StepRecord.Key"/> shows it. Null: from the top (a restart under a new id).
    /// </summary>
    public string? From { get; init; }

    /// <summary>The new workflow's id, which must not exist; null for <c>&lt;source&gt;-fork-&lt;8 hex digits&gt;</c>.</summary>
    public string? WorkflowId { get; init; }

    /// <summary>How long the new workflow may take (as <see cref="StartOptions.Timeout"/>); the source's deadline is not carried.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>A new id for a fork of <paramref name="sourceId"/>.</summary>
    internal static string NewId(string sourceId)
    {
        var id = $"{sourceId}-fork-{Guid.NewGuid().ToString("N")[..8]}";
        return id.Length <= 200 ? id : Guid.NewGuid().ToString("N");
    }
}
