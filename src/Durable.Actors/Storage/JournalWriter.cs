using Durable.Actors.Advanced;

namespace Durable.Actors.Storage;

/// <summary>
/// The single writer of a host's journal rows, whatever the database (its <see cref="IJournalStore"/>): one thread, one
/// connection. Writes queue up while a commit is under way and the next transaction takes all of them (group commit),
/// so many workflows share one commit and one workflow alone pays one commit per write. Each queued write is all or
/// nothing on its own: when one fails on its own (a sequence number another incarnation already wrote, a value the
/// database refuses), the batch is rolled back and committed again without it, so that only that write fails. An error
/// of the database itself (disk full, I/O, busy, the connection lost) fails every write of the transaction, and the
/// next one opens a fresh connection. The writes' tasks end off the writer's thread.
/// </summary>
internal sealed class JournalWriter : IAsyncDisposable
{
    private sealed class Write(IReadOnlyList<JournalRow> rows, string? purgedWorkflowId = null, bool onlyIfEnded = false)
    {
        public IReadOnlyList<JournalRow> Rows { get; } = rows;

        /// <summary>Set for a purge (<see cref="PurgeAsync"/>): the workflow whose rows go, in a transaction of purges only.</summary>
        public string? PurgedWorkflowId { get; } = purgedWorkflowId;

        /// <summary>A purge of the workflow only if its index row says it ended (<see cref="PurgeEndedAsync"/>).</summary>
        public bool OnlyIfEnded { get; } = onlyIfEnded;

        /// <summary>Set by the writer for a purge <see cref="OnlyIfEnded"/> that found the workflow not ended: nothing was deleted.</summary>
        public bool Kept { get; set; }

        /// <summary>The write as a test harness's gate sees it (<see cref="EngineHooks.WriteGate"/>), made for the gate only.</summary>
        public JournalWrite? Gated { get; set; }

        // Completed from a pool thread, one per batch (see Complete): continuations run there, never on the writer.
        public TaskCompletionSource Done { get; } = new();
    }

    private readonly IJournalStore _store;
    private readonly TimeSpan _stopBound;
    private readonly object _gate = new();
    private readonly Queue<Write> _queue = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IJournalWriteGate? _writeGate;
    // The rows of each write of the transaction under way, handed to the store (kept: one list for every commit).
    private readonly List<IReadOnlyList<JournalRow>> _writes = [];
    private bool _stopping;
    private long _transactions;

    /// <param name="store">The database's part; the writer disposes of it when it stops.</param>
    /// <param name="stopBound">How long <see cref="StopAsync"/> waits at most for what is queued (a commit under way).</param>
    /// <param name="gate">A test harness's gate, if any (<see cref="EngineHooks.WriteGate"/>).</param>
    public JournalWriter(IJournalStore store, TimeSpan stopBound, IJournalWriteGate? gate = null)
    {
        _store = store;
        _stopBound = stopBound;
        _writeGate = gate;
        new Thread(Run) { IsBackground = true, Name = "durable-actors-journal-writer" }.Start();
    }

    /// <summary>Transactions committed so far (tests: writes that arrived together shared one).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Writes <paramref name="rows"/> atomically; the task ends when they are durable or failed.</summary>
    public Task WriteAsync(IReadOnlyList<JournalRow> rows) => Enqueue(new Write(rows));

    private Task Enqueue(Write write)
    {
        lock (_gate)
        {
            if (_stopping)
                return Task.FromException(new InvalidOperationException("The journal is stopping; nothing was written."));
            _queue.Enqueue(write);
            Monitor.Pulse(_gate);
        }
        return write.Done.Task;
    }

    /// <summary>
    /// Deletes every row of workflow <paramref name="workflowId"/> (its events, their tags, its index row) in one
    /// transaction of purges only (those queued together, up to 100), after the writes queued before it; the task ends
    /// when that is durable or failed.
    /// </summary>
    public Task PurgeAsync(string workflowId) => Enqueue(new Write([], workflowId));

    /// <summary>
    /// Purges each of <paramref name="workflowIds"/> whose row of the workflow index says it ended (completed, failed or
    /// cancelled) when its transaction runs, as <see cref="PurgeAsync"/> does, and keeps the others; returns the ids
    /// purged. For workflows no actor holds (the caller sees to it): nothing may change them meanwhile in this host.
    /// </summary>
    public async Task<IReadOnlyList<string>> PurgeEndedAsync(IReadOnlyList<string> workflowIds)
    {
        var purges = workflowIds.Distinct(StringComparer.Ordinal).Select(id => new Write([], id, onlyIfEnded: true)).ToList();
        lock (_gate)
        {
            if (_stopping)
                throw new InvalidOperationException("The journal is stopping; nothing was purged.");
            foreach (var purge in purges)
                _queue.Enqueue(purge);
            Monitor.Pulse(_gate);
        }
        await Task.WhenAll(purges.Select(p => p.Done.Task)).ConfigureAwait(false);
        return purges.Where(p => !p.Kept).Select(p => p.PurgedWorkflowId!).ToList();
    }

    /// <summary>
    /// Refuses further writes and returns at once; the task ends when what was queued is committed (or failed) and the
    /// connection closed, or after the writer's stop bound, whichever comes first. It never fails. The caller (the
    /// journal's PostStop) must not wait for it: see <see cref="JournalStops"/>.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        return EndedAsync(_ended.Task, _stopBound);
    }

    /// <summary>Ends when <paramref name="ended"/> does or after <paramref name="bound"/>; never fails.</summary>
    internal static async Task EndedAsync(Task ended, TimeSpan bound)
    {
        try
        {
            await ended.WaitAsync(bound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Still committing: what it commits later is durable; what it never commits was never acknowledged.
        }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private void Run()
    {
        try
        {
            Drain();
        }
        finally
        {
            _store.Dispose();
            _ended.TrySetResult();
        }
    }

    private void Drain()
    {
        var batch = new List<Write>();
        while (Take(batch))
        {
            if (batch is [{ PurgedWorkflowId: not null }, ..])
            {
                Purge(batch);
                batch.Clear();
                continue;
            }
            if (_writeGate is { } gate)
                Admit(gate, batch);
            if (batch.Count > 0)
                Commit(batch);
            batch.Clear();
        }
    }

    /// <summary>
    /// Waits for writes and moves the next transaction's into <paramref name="batch"/>; false once stopping with none.
    /// </summary>
    /// <remarks>
    /// A method of its own, so that no local of the writer's loop keeps the last write (its rows, whole results) while
    /// the writer waits for the next one, maybe long after the workflows that wrote it stopped.
    /// </remarks>
    private bool Take(List<Write> batch)
    {
        lock (_gate)
        {
            while (_queue.Count == 0 && !_stopping)
                Monitor.Wait(_gate);
            if (_queue.Count == 0)
                return false;
            // Purges share transactions with purges only (a retention sweep sends many at once).
            if (_queue.Peek().PurgedWorkflowId is not null)
            {
                while (_queue.Count > 0 && _queue.Peek().PurgedWorkflowId is not null && batch.Count < MaxPurgesPerTransaction)
                    batch.Add(_queue.Dequeue());
                return true;
            }
            var rows = 0;
            while (_queue.Count > 0 && _queue.Peek().PurgedWorkflowId is null
                && (rows == 0 || rows + _queue.Peek().Rows.Count <= _store.MaxRowsPerTransaction))
            {
                var write = _queue.Dequeue();
                rows += write.Rows.Count;
                batch.Add(write);
            }
            return true;
        }
    }

    private static void Admit(IJournalWriteGate gate, List<Write> batch)
    {
        var refused = batch.Where(w => !gate.Admit(w.Gated ??= new JournalWrite(w.Rows))).ToArray();
        if (refused.Length == 0)
            return;
        batch.RemoveAll(refused.Contains);
        CompleteOnPool(refused, new InvalidOperationException("The host crashed (test kit): nothing of this write reached the database."));
    }

    private void Commit(List<Write> batch)
    {
        while (batch.Count > 0)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                CommitOnce(batch);
            }
            catch (JournalWriteRefusedException refused) when (refused.Writes.Count > 0)
            {
                // These writes would fail in any transaction: they fail alone, and the rest of the batch, rolled back
                // with them, is committed again without them.
                Complete([.. refused.Writes.Select(i => batch[i])], refused.InnerException!);
                for (var i = refused.Writes.Count - 1; i >= 0; i--)
                    batch.RemoveAt(refused.Writes[i]);
                continue;
            }
            catch (JournalWriteRefusedException refused)
            {
                // A write failed on its own, but the store could not tell which: each write in a transaction of its own.
                if (batch.Count == 1)
                {
                    Complete([batch[0]], refused.InnerException!);
                    return;
                }
                foreach (var write in batch.ToArray())
                    Commit([write]);
                return;
            }
            catch (Exception e)
            {
                // Nothing of this transaction is durable: every write in it fails. A fresh connection for the next one.
                _store.Reset();
                Complete([.. batch], e);
                return;
            }
            Interlocked.Increment(ref _transactions);
            Observability.Telemetry.Committed(started, batch.Count);
            Complete([.. batch], null);
            return;
        }
    }

    /// <summary>The most purges one transaction takes: each deletes a workflow's rows, which may be many.</summary>
    private const int MaxPurgesPerTransaction = 100;

    /// <summary>The purges of <paramref name="batch"/> in one transaction; a failure fails them all, nothing deleted.</summary>
    private void Purge(List<Write> batch)
    {
        var purges = batch.ToArray();
        try
        {
            var purged = _store.Purge(purges.Select(p => new PurgeTarget(p.PurgedWorkflowId!, p.OnlyIfEnded)).ToList());
            foreach (var purge in purges)
                purge.Kept = !purged.Contains(purge.PurgedWorkflowId!);
        }
        catch (Exception e)
        {
            _store.Reset();
            CompleteOnPool(purges, e);
            return;
        }
        Interlocked.Increment(ref _transactions);
        CompleteOnPool(purges, null);
    }

    /// <summary>One transaction of the writes of <paramref name="batch"/>.</summary>
    private void CommitOnce(List<Write> batch)
    {
        try
        {
            foreach (var write in batch)
                _writes.Add(write.Rows);
            _store.Commit(_writes);
        }
        finally
        {
            _writes.Clear();
        }
    }

    /// <summary>
    /// Ends the writes' tasks on one pool thread per batch: whatever awaits a write never holds up the next commit,
    /// and a batch of hundreds of writes costs one hop through the pool, not one each.
    /// </summary>
    private void Complete(Write[] writes, Exception? error)
    {
        if (_writeGate is { } gate)
        {
            foreach (var write in writes)
                gate.Ended(write.Gated ??= new JournalWrite(write.Rows), error is null);
        }
        CompleteOnPool(writes, error);
    }

    private static void CompleteOnPool(Write[] writes, Exception? error) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            foreach (var write in state.Writes)
            {
                if (state.Error is null)
                    write.Done.TrySetResult();
                else
                    write.Done.TrySetException(state.Error);
            }
        }, (Writes: writes, Error: error), preferLocal: false);
}
