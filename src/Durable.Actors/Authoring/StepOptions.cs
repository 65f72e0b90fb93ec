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

    /// <summary>
    /// How long the body may go without a heartbeat (<see cref="StepExecution.Heartbeat()"/>); null for none. With it,
    /// the body reports progress through <see cref="StepExecution.Current"/>. When its heartbeats stop for this long, in
    /// this process its token is cancelled and the attempt counts as failed with <see cref="StepTimedOutException"/>
    /// (retried by <see cref="Retry"/>); left IN_PROGRESS by another host or a crashed one, the step turns stale this
    /// long after its last recorded heartbeat, instead of after <c>durable-actors.stale-timeout</c> from its start. The
    /// next attempt reads the last details (<see cref="StepExecution.GetHeartbeatDetails{T}"/>) to go on from there.
    /// </summary>
    public TimeSpan? HeartbeatTimeout { get; init; }
}
