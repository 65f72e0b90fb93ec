namespace Durable.Actors.Tests.TestSupport;

/// <summary>
/// How often a test checks a condition it waits for: TestKit's AwaitCondition checks every tenth of its timeout by
/// default (3 s of a 30 s timeout), which a condition met a moment after the first check waits out in full.
/// </summary>
public static class Polling
{
    public static TimeSpan Interval { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until <paramref name="condition"/> holds, checking every <see cref="Interval"/>; a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan timeout) => UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <inheritdoc cref="UntilAsync(Func{bool}, string, TimeSpan)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds:0} s");
            await Task.Delay(Interval);
        }
    }
}
