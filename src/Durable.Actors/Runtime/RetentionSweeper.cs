using Akka.Actor;
using Akka.Event;
using Durable.Actors.Configuration;

namespace Durable.Actors.Runtime;

/// <summary>
/// The retention sweep (<c>durable-actors.retention</c>): at start and every sweep interval of the workflow clock, it
/// purges the workflows of each status that ended longer ago than that status's period, a batch of them per status at
/// a time (each as <see cref="PurgeWorkflow"/> purges it; the journal's writer deletes the purges of a batch in few
/// transactions); a full batch is followed by the next one at once. Started only when a period is set.
/// </summary>
internal sealed class RetentionSweeper : ReceiveActor
{
    private readonly WorkflowRuntime _runtime;
    private readonly RetentionSettings _retention;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _self;
    private ITimer? _timer;

    /// <param name="runtime">The engine.</param>
    /// <param name="client">Purges one workflow at a time (<see cref="PurgeWorkflow"/>).</param>
    /// <param name="coordinator">One machine's coordinator, which purges the workflows no actor holds in bulk
    /// (<see cref="PurgeEndedWorkflows"/>); null on a cluster, whose sweep purges each workflow through its actor.</param>
    public RetentionSweeper(WorkflowRuntime runtime, WorkflowClient client, IActorRef? coordinator)
    {
        _runtime = runtime;
        // The sweep's continuations run off the actor's context (ConfigureAwait(false)), where Self is not available.
        _self = Self;
        _retention = runtime.Settings.Retention;
        var system = Context.System;
        ReceiveAsync<Sweep>(async _ =>
        {
            var full = false;
            var now = _runtime.Clock.GetUtcNow();
            foreach (var (status, period) in _retention.Periods())
            {
                try
                {
                    var expired = await Inspection.JournalReader.ExpiredAsync(system, status, now - period, _retention.Batch, CancellationToken.None)
                        .ConfigureAwait(false);
                    var oneByOne = expired;
                    var purged = 0;
                    if (coordinator is not null && oneByOne.Count > 0)
                    {
                        var bulk = await coordinator.Ask<EndedWorkflowsPurged>(new PurgeEndedWorkflows(oneByOne), BulkTimeout).ConfigureAwait(false);
                        purged = bulk.Purged.Count;
                        oneByOne = bulk.Held;
                    }
                    // All at once: each workflow's actor checks it has ended, and the journal's writer deletes the purges
                    // that come together in one transaction.
                    var replies = await Task.WhenAll(oneByOne.Select(id =>
                        client.AskAsync(new PurgeWorkflow(id), CancellationToken.None))).ConfigureAwait(false);
                    purged += replies.Count(r => r is WorkflowPurged);
                    if (purged > 0)
                        _log.Info("Retention: purged {0} {1} workflows that ended more than {2} ago", purged, status.ToString().ToUpperInvariant(), period);
                    // A full batch is followed by the next one at once, unless nothing of it could be purged (it would come again).
                    full |= expired.Count == _retention.Batch && purged > 0;
                }
                catch (Exception e)
                {
                    // The database may be away: the next sweep tries again.
                    _log.Warning("Retention: the sweep of {0} workflows failed: {1}", status.ToString().ToUpperInvariant(), e.Message);
                }
            }
            Schedule(full ? TimeSpan.Zero : _retention.SweepInterval);
        });
    }

    // A batch's purge waits at most this long for the journal's writer (the database may be away); the next sweep tries again.
    private static readonly TimeSpan BulkTimeout = TimeSpan.FromMinutes(1);

    protected override void PreStart() => Self.Tell(Sweep.Instance);

    protected override void PostStop() => _timer?.Dispose();

    private void Schedule(TimeSpan after)
    {
        _timer?.Dispose();
        var self = _self;
        _timer = _runtime.Clock.CreateTimer(_ => self.Tell(Sweep.Instance), null, after, Timeout.InfiniteTimeSpan);
    }

    private sealed class Sweep
    {
        public static Sweep Instance { get; } = new();

        private Sweep() { }
    }
}
