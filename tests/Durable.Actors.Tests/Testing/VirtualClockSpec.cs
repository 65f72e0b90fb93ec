using Durable.Actors.Testing;
using Xunit;

namespace Durable.Actors.Tests.Testing;

/// <summary>The virtual clock alone: it moves only when told, and fires timers in due order at their due time.</summary>
public sealed class VirtualClockSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Advance_FiresTimersInDueOrder_EachSeeingItsDueTime()
    {
        var clock = new VirtualClock(T0);
        var fired = new List<string>();
        using var late = clock.CreateTimer(_ => fired.Add($"late {clock.GetUtcNow():HH:mm}"), null, TimeSpan.FromHours(2), Timeout.InfiniteTimeSpan);
        using var early = clock.CreateTimer(_ => fired.Add($"early {clock.GetUtcNow():HH:mm}"), null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
        using var never = clock.CreateTimer(_ => fired.Add("never"), null, TimeSpan.FromHours(3), Timeout.InfiniteTimeSpan);
        never.Dispose();

        clock.Advance(TimeSpan.FromHours(5));

        Assert.Equal(["early 01:00", "late 02:00"], fired);
        Assert.Equal(T0.AddHours(5), clock.GetUtcNow());
        Assert.Null(clock.NextDue);
    }

    [Fact]
    public void PeriodicTimer_FiresOncePerPeriodPassed()
    {
        var clock = new VirtualClock(T0);
        var ticks = 0;
        using var timer = clock.CreateTimer(_ => ticks++, null, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10));

        clock.Advance(TimeSpan.FromMinutes(35));

        Assert.Equal(3, ticks);
        Assert.Equal(T0.AddMinutes(40), clock.NextDue);
    }

    [Fact]
    public async Task DelayOnTheClock_EndsOnlyWhenTheClockReachesIt()
    {
        var clock = new VirtualClock(T0);
        var delay = Task.Delay(TimeSpan.FromDays(3), clock);

        clock.Advance(TimeSpan.FromDays(2));
        Assert.False(delay.IsCompleted);
        clock.Advance(TimeSpan.FromDays(1));

        await delay.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, clock.PendingTimers);
    }
}
