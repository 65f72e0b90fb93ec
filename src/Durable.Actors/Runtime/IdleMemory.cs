using Akka.Event;

namespace Durable.Actors.Runtime;

/// <summary>
/// Hands back to the OS the memory a burst of work left committed, once the host is idle
/// (<c>durable-actors.release-memory-when-idle</c>). .NET's workstation GC keeps the regions a burst grew: 100,000
/// workflows started and put away leave ~410 MiB of RSS for ~25 MiB that is live. Once no workflow has been in memory
/// for <c>idleFor</c> after some work, and 32 MiB or more was allocated since the last release, one aggressive
/// (decommitting) collection runs; then nothing more until the next work.
/// </summary>
/// <remarks>
/// The coordinators (one per host, one per bucket on a cluster) report how many workflow actors they hold; a
/// process-wide count is enough, as the collection is process-wide too. Checked on a timer of its own every half
/// <c>idleFor</c>, off every actor's thread: the collection blocks every thread of the process while it runs.
/// </remarks>
internal sealed class IdleMemory : IDisposable
{
    /// <summary>What must have been allocated since the last release for another to be worth its pause.</summary>
    internal const long AllocatedBetweenReleases = 32L * 1024 * 1024;

    private readonly TimeSpan _idleFor;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private int _live;
    private bool _workedSinceRelease;
    private long _idleSince;
    private long _allocatedAtRelease = GC.GetTotalAllocatedBytes(precise: true);

    public IdleMemory(TimeSpan idleFor, TimeProvider clock, ILoggingAdapter log)
    {
        _idleFor = idleFor;
        _clock = clock;
        _log = log;
        _idleSince = clock.GetTimestamp();
        var every = idleFor / 2;
        _timer = clock.CreateTimer(_ => Check(), null, every, every);
    }

    /// <summary>How many times memory was handed back.</summary>
    public int Releases { get; private set; }

    /// <summary>A coordinator now holds <paramref name="delta"/> more (or fewer) workflow actors.</summary>
    public void Changed(int delta)
    {
        if (delta == 0)
            return;
        lock (_gate)
        {
            _live += delta;
            if (delta > 0)
                _workedSinceRelease = true;
            else if (_live == 0)
                _idleSince = _clock.GetTimestamp();
        }
    }

    private void Check()
    {
        lock (_gate)
        {
            if (_live > 0 || !_workedSinceRelease || _clock.GetElapsedTime(_idleSince) < _idleFor
                || GC.GetTotalAllocatedBytes(precise: true) - _allocatedAtRelease < AllocatedBetweenReleases)
                return;
            _workedSinceRelease = false;
        }
        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetGCMemoryInfo().TotalCommittedBytes;
        lock (_gate)
        {
            _allocatedAtRelease = GC.GetTotalAllocatedBytes(precise: true);
            Releases++;
        }
        _log.Info("Idle for {0}: memory committed by the GC handed back to the OS, {1:F0} MiB to {2:F0} MiB",
            _idleFor, before / (1024.0 * 1024.0), after / (1024.0 * 1024.0));
    }

    public void Dispose() => _timer.Dispose();
}
