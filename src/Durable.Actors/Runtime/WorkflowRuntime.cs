using Akka.Event;
using Durable.Actors.Advanced;
using Durable.Actors.Configuration;

namespace Durable.Actors.Runtime;

/// <summary>What every workflow actor of one host shares.</summary>
/// <remarks><c>AloneSince</c>: when this host found no other host alive on its database (see <c>HostLease</c>).</remarks>
internal sealed record WorkflowRuntime(
    DurableSettings Settings,
    WorkflowRegistry Registry,
    IWorkflowObserver? Observer,
    TimeProvider Clock,
    DateTimeOffset? AloneSince,
    ILoggingAdapter Log)
{
    private int _observerFailed;

    /// <summary>The host's coordinator, which starts child workflows and carries messages between workflows; set once when it starts.</summary>
    public Akka.Actor.IActorRef Coordinator { get; set; } = Akka.Actor.ActorRefs.Nobody;

    /// <summary>
    /// In cluster mode, the node's relay that sends a handed-on request again until the workflow's new home acknowledges
    /// it (<see cref="HandedOn"/>); nobody on one machine, where no bucket moves.
    /// </summary>
    public Akka.Actor.IActorRef HandOnRelay { get; set; } = Akka.Actor.ActorRefs.Nobody;

    /// <summary>The queue dispatcher (on a cluster, the proxy of its singleton): told when an enqueued workflow is cancelled before its admission.</summary>
    public Akka.Actor.IActorRef QueueDispatcher { get; set; } = Akka.Actor.ActorRefs.Nobody;

    /// <summary>Whether the queue of this name gives a sleeping workflow's slot back (<see cref="QueueOptions.ReleaseSlotWhileSleeping"/>).</summary>
    public Func<string, bool> ReleasesSlot { get; set; } = static _ => false;

    /// <summary>In cluster mode, which nodes the cluster has removed (zombie steps); null on one machine.</summary>
    public INodeMembership? Membership { get; init; }

    /// <summary>
    /// In cluster mode, how long a workflow waits for the reply to a message it sent another workflow (a child's start,
    /// a child's cancellation) before it sends it again (see <see cref="Resending"/>); null on one machine.
    /// </summary>
    public TimeSpan? ResendAfter { get; init; }

    /// <summary>
    /// Sends <paramref name="command"/> to a workflow through the coordinator, no one awaiting its reply (a child's
    /// cancellation); on a cluster, sent again until the workflow's node answers (an end by this host's stop is observed).
    /// </summary>
    public void TellWorkflow(IWorkflowCommand command)
    {
        if (ResendAfter is null)
            Coordinator.Tell(command, Akka.Actor.ActorRefs.Nobody);
        else
            _ = Resending.AskAsync(Coordinator, command, ResendAfter, Stopping)
                .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>In cluster mode, how often a parent waiting for a child asks it again how it ended (see <see cref="RecheckChild"/>); null on one machine.</summary>
    public TimeSpan? ChildRecheckAfter { get; init; }

    /// <summary>Cancelled when the ActorSystem terminates: ends the resends of messages no one waits for.</summary>
    public CancellationToken Stopping { get; init; }

    /// <summary>Points where tests hold or break the engine, to make a race window happen every time.</summary>
    public RuntimeHooks Hooks { get; init; } = RuntimeHooks.None;

    /// <summary>Hands memory back once the host is idle (<c>release-memory-when-idle</c>); null when off.</summary>
    public IdleMemory? IdleMemory { get; init; }

    /// <summary>The idle flushes of the host's run contexts, on one timer.</summary>
    public IdleFlushes IdleFlushes { get; } = new();

    /// <summary>The logger of workflow events (Observability/WorkflowLog) when the host has a logger factory; null otherwise.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }

    public void Report(StepReport report)
    {
        try
        {
            Observer?.OnStep(report);
        }
        catch (Exception e)
        {
            // An observer must never break a workflow; say once that it throws, so that the bug is seen.
            if (Interlocked.Exchange(ref _observerFailed, 1) == 0)
                Log.Error(e, "The workflow observer {0} threw on a {1} report of step [{2}] of workflow [{3}]; the run goes on, and later errors of this observer are not logged",
                    Observer!.GetType().Name, report.Kind, report.Key, report.WorkflowId);
        }
    }
}

/// <summary>Test hooks of the engine; none in production.</summary>
internal sealed record RuntimeHooks
{
    public static RuntimeHooks None { get; } = new();

    /// <summary><paramref name="hooks"/> with a harness's step body hooks, given with the ActorSystem's setup.</summary>
    public static RuntimeHooks With(RuntimeHooks hooks, EngineHooks? harness) => harness is null ? hooks : hooks with
    {
        StepBodyStarting = harness.StepBodyStarting,
        StepBodyEnded = harness.StepBodyEnded,
    };

    /// <summary>Awaited by a run's idle flush, between finding its completion pending and asking the actor to write it.</summary>
    public Func<string, Task>? BeforeIdleFlush { get; init; }

    /// <summary>Called by a workflow actor before it handles a message; an exception thrown here is one inside the actor.</summary>
    public Action<object>? BeforeCommand { get; init; }

    /// <summary>Called by a workflow actor as it stops (PostStop), with its workflow id.</summary>
    public Action<string>? ActorStopping { get; init; }

    /// <summary>Awaited by the coordinator's recovery-on-start between reading the unfinished workflows and waking them.</summary>
    public Func<Task>? RecoveryFound { get; init; }

    /// <summary>Asked before an ended child tells its parent: false drops the message (as a node that dies at that moment does).</summary>
    public Func<ChildWorkflowEnded, bool>? ChildEndedSending { get; init; }

    /// <summary>Asked before a moving bucket sends a request on to the workflow's new home: true loses that send (as sharding may).</summary>
    public Func<HandedOn, bool>? HandOnLost { get; init; }

    /// <summary>Called by the coordinator when it keeps a request for a workflow whose actor is passivating.</summary>
    public Action<string>? RequestBuffered { get; init; }

    /// <summary>See <see cref="EngineHooks.StepBodyStarting"/>.</summary>
    public Action<StepReport>? StepBodyStarting { get; init; }

    /// <summary>See <see cref="EngineHooks.StepBodyEnded"/>.</summary>
    public Action<StepReport, bool>? StepBodyEnded { get; init; }
}

/// <summary>The cluster's view of its nodes, for deciding whether a step left IN_PROGRESS by another node may run again.</summary>
internal interface INodeMembership
{
    /// <summary>This node's incarnation (address and uid), recorded with every step it starts.</summary>
    string SelfNode { get; }

    /// <summary>True only when the cluster has removed <paramref name="node"/> (that incarnation can run nothing any more).</summary>
    bool IsRemoved(string node);
}
