namespace Durable.Actors.Tests.TestSupport;

/// <summary>
/// How often a test checks a condition it waits for: TestKit's AwaitCondition checks every tenth of its timeout by
/// default (3 s of a 30 s timeout), which a condition met a moment after the first check waits out in full.
/// </summary>
public static class Polling
{
    public static TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(20);
}
