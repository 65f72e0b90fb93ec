namespace Durable.Actors.Storage;

/// <summary>
/// Tells a host starting on a database file whether any other process has the file open as a host, using two lock
/// files beside it that the OS releases when a process dies, however it dies. When no other host is alive, every
/// IN_PROGRESS record older than this start was left by a process that has ended: it is a zombie at once, without
/// waiting for the stale timeout.
/// </summary>
/// <remarks>
/// Every host holds a shared lock on <c>-hosts.lock</c> for its lifetime. A starting host takes <c>-startup.lock</c>
/// (so that two starts never interleave), then tries an exclusive lock on <c>-hosts.lock</c>: it succeeds only when no
/// other host holds it. The files are never deleted: deleting a lock file races with the processes that hold it.
/// </remarks>
internal sealed class HostLease : IDisposable
{
    private readonly FileStream _hosts;

    private HostLease(FileStream hosts, DateTimeOffset? aloneSince)
    {
        _hosts = hosts;
        AloneSince = aloneSince;
    }

    /// <summary>When this host found itself the only one; null when another host was alive.</summary>
    public DateTimeOffset? AloneSince { get; }

    public static HostLease Acquire(string databasePath, TimeProvider clock)
    {
        using var startup = OpenLock(databasePath + "-startup.lock", FileShare.None, wait: true)!;
        DateTimeOffset? aloneSince = null;
        using (var exclusive = OpenLock(databasePath + "-hosts.lock", FileShare.None, wait: false))
        {
            if (exclusive is not null)
                aloneSince = clock.GetUtcNow();
        }
        return new HostLease(OpenLock(databasePath + "-hosts.lock", FileShare.ReadWrite, wait: true)!, aloneSince);
    }

    public void Dispose() => _hosts.Dispose();

    /// <summary>
    /// Takes the lock file <paramref name="path"/> for this process alone, unless another holds it (then null): the
    /// one host of a database file that does a job for all (admitting its queues, firing its schedules). The OS
    /// releases it when its holder dies, however it dies; disposing it gives the job up.
    /// </summary>
    public static IDisposable? TryTake(string path) => OpenLock(path, FileShare.None, wait: false);

    /// <summary>Opens <paramref name="path"/> with an OS lock (.NET takes a flock for the share mode on Unix); null when taken and not waiting.</summary>
    private static FileStream? OpenLock(string path, FileShare share, bool wait)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, share);
            }
            catch (IOException e) when (e is not (DirectoryNotFoundException or FileNotFoundException))
            {
                if (!wait)
                    return null;
                if (DateTime.UtcNow >= deadline)
                    throw new DatabaseUnavailableException(path, $"Another process kept '{path}' locked for 30 s; cannot start on this database.", e);
            }
            // Only while another host starts, which holds the lock for a moment.
            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 100);
        }
    }
}
