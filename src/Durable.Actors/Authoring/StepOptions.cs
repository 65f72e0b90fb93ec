namespace Durable.Actors;

/// <summary>How a step runs: how a failing body is retried, and how long one attempt may take.</summary>
public sealed record StepOptions
{
    /// <summary>How a failing body is retried in this run; null for the configured default (<c>durable-actors.step-retry</c>).</summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>
    /// How long one attempt may take, from its start to its end (start-to-close), on the workflow clock; null for no
    /// limit. At the timeout the body's token is cancelled, and the attempt counts as failed with
    /// <see cref="StepTimedOutException"/>, which <see cref="Retry"/> retries like any other error. A body that ignores
    /// its token holds the step until it returns (one body of a step runs at a time); its result is then discarded.
    /// </summary>
    public TimeSpan? Timeout { get; init; }
}
