using Akka.Actor;
using Akka.Event;
using Durable.Actors.Configuration;

namespace Durable.Actors.Runtime;

/// <summary>
/// The retention sweep (<c>durable-actors.retention</c>): at start and every sweep interval of the workflow clock, it
/// purges the workflows of each status that ended longer ago than that status's period, at most a batch of them per
/// status, each in a transaction of its own (as <see cref="PurgeWorkflow"/> does); a full batch is followed by the
/// next one at once. Started only when a period is set.
/// </summary>
internal sealed class RetentionSweeper : ReceiveActor
{
    private readonly WorkflowRuntime _runtime;
    private readonly RetentionSettings _retention;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _self;
    private ITimer? _timer;

    public RetentionSweeper(WorkflowRuntime runtime, WorkflowClient client)
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
                    var page = await DurableWorkflows.ListAsync(system,
                        new WorkflowQuery { Status = status, EndedBefore = now - period, Limit = _retention.Batch }).ConfigureAwait(false);
                    var purged = 0;
                    foreach (var workflow in page.Items)
                    {
                        if (await client.AskAsync(new PurgeWorkflow(workflow.WorkflowId), CancellationToken.None).ConfigureAwait(false) is WorkflowPurged)
                            purged++;
                    }
                    if (purged > 0)
                        _log.Info("Retention: purged {0} {1} workflows that ended more than {2} ago", purged, status.ToString().ToUpperInvariant(), period);
                    full |= page.NextCursor is not null;
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
