using Durable.Actors.Advanced;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>
/// A journal write gate for an engine's setup (<see cref="EngineHooks.WriteGate"/>): keeps the committed writes, and
/// refuses the first write with a change <see cref="RefuseOnce"/> matches (as a failed write would fail).
/// </summary>
public sealed class JournalGate : IJournalWriteGate
{
    private readonly Lock _lock = new();
    private readonly List<JournalWrite> _committed = [];
    private int _refused;

    /// <summary>The first write with a change of this kind is refused; the others are admitted.</summary>
    public Func<JournalChange, bool>? RefuseOnce { get; init; }

    public int Refused => Volatile.Read(ref _refused);

    public IReadOnlyList<JournalWrite> Committed
    {
        get
        {
            lock (_lock)
                return [.. _committed];
        }
    }

    public bool Admit(JournalWrite write)
    {
        // On the writer's thread, one write at a time.
        if (RefuseOnce is not { } refuse || _refused > 0 || !write.Changes.Any(refuse))
            return true;
        Interlocked.Increment(ref _refused);
        return false;
    }

    public void Ended(JournalWrite write, bool committed)
    {
        if (!committed)
            return;
        lock (_lock)
            _committed.Add(write);
    }
}
