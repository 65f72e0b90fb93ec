namespace Durable.Actors;

/// <summary>How a wait for a signal ended: with its payload, or timed out.</summary>
/// <typeparam name="T">The payload's type.</typeparam>
/// <param name="Received">True when a signal came before the timeout.</param>
/// <param name="Payload">The signal's payload; default when it timed out.</param>
public sealed record SignalResult<T>(bool Received, T? Payload)
{
    /// <summary>True when the timeout came first.</summary>
    public bool TimedOut => !Received;
}
