namespace Durable.Actors;

/// <summary>How a step whose body throws is retried within one run of the workflow.</summary>
/// <remarks>
/// Every attempt and its error are recorded. A step that exhausted its attempts fails the run (unless the workflow
/// catches the exception); resuming the workflow gives it a fresh set of attempts. Cancellation of the step's token, a
/// result that cannot be serialized and the exception types in <see cref="NonRetryableExceptions"/> (and their
/// subtypes) are never retried; an attempt that timed out (<see cref="StepTimedOutException"/>) is; an <see cref="OperationCanceledException"/> while the step's token is not cancelled
/// (an HTTP client's timeout) is retried like any other error.
/// The default comes from <c>durable-actors.step-retry</c>: 3 attempts, 1 s doubling up to 30 s, 20 % jitter.
/// </remarks>
public sealed record RetryPolicy
{
    /// <summary>Attempts in one run, the first included; 1 means no retry.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The delay before the second attempt.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>What each next delay is multiplied by.</summary>
    public double BackoffCoefficient { get; init; } = 2.0;

    /// <summary>The longest delay between two attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A random share (0 to 1) by which each delay may be shorter or longer, so retries of many workflows spread out.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Exception types (and their subtypes) that fail the step at once.</summary>
    public IReadOnlyList<Type> NonRetryableExceptions { get; init; } = [];

    /// <summary>One attempt, no retry.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>
    /// Whether a failed attempt is tried again. Only the cancellation of the step's own token is cancellation: an
    /// <see cref="OperationCanceledException"/> of anything else (an HTTP client's timeout) is an error like others.
    /// </summary>
    internal bool Retries(Exception error, int attemptsInRun, CancellationToken stepToken) =>
        attemptsInRun < MaxAttempts
        && !stepToken.IsCancellationRequested
        && error is not DurableActorsException or StepTimedOutException
        && !NonRetryableExceptions.Any(type => type.IsInstanceOfType(error));

    /// <summary>The delay after <paramref name="attemptsInRun"/> failed attempts.</summary>
    internal TimeSpan DelayAfter(int attemptsInRun, Random random)
    {
        var delay = Math.Min(InitialDelay.TotalMilliseconds * Math.Pow(BackoffCoefficient, attemptsInRun - 1), MaxDelay.TotalMilliseconds);
        var jittered = delay * (1 + Jitter * (random.NextDouble() * 2 - 1));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, 0, MaxDelay.TotalMilliseconds));
    }
}
