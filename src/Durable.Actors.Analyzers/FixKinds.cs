namespace Durable.Actors.Analyzers;

/// <summary>
/// What the code fix can put in place of a finding, passed in the diagnostic's properties under <see cref="Key"/>; a
/// finding without it has no code fix.
/// </summary>
internal static class FixKinds
{
    public const string Key = "DurableFix";

    /// <summary><c>DateTime.UtcNow</c>: <c>(await ctx.NowAsync()).UtcDateTime</c>.</summary>
    public const string UtcDateTime = "UtcDateTime";

    /// <summary><c>DateTime.Now</c>: <c>(await ctx.NowAsync()).LocalDateTime</c>.</summary>
    public const string LocalDateTime = "LocalDateTime";

    /// <summary><c>DateTime.Today</c>: <c>(await ctx.NowAsync()).LocalDateTime.Date</c>.</summary>
    public const string Today = "Today";

    /// <summary><c>DateTimeOffset.UtcNow</c>: <c>await ctx.NowAsync()</c>.</summary>
    public const string UtcDateTimeOffset = "UtcDateTimeOffset";

    /// <summary><c>DateTimeOffset.Now</c>: <c>(await ctx.NowAsync()).ToLocalTime()</c>.</summary>
    public const string LocalDateTimeOffset = "LocalDateTimeOffset";

    /// <summary><c>Guid.NewGuid()</c>: <c>await ctx.NewGuidAsync()</c>.</summary>
    public const string NewGuid = "NewGuid";

    /// <summary><c>Random.Shared.Next(a, b)</c>: <c>await ctx.RandomAsync(a, b)</c>.</summary>
    public const string SharedRandom = "SharedRandom";

    /// <summary><c>var r = new Random()</c> used only as <c>r.Next(a, b)</c>: each use becomes <c>await ctx.RandomAsync(a, b)</c>.</summary>
    public const string NewRandom = "NewRandom";

    /// <summary><c>Task.Delay(x)</c>: <c>ctx.SleepAsync(x)</c>; <c>Thread.Sleep(x);</c>: <c>await ctx.SleepAsync(x);</c>.</summary>
    public const string Sleep = "Sleep";
}
