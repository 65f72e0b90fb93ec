using Akka.Actor;
using Durable.Actors.Runtime;

namespace Durable.Actors.Advanced;

/// <summary>What a test harness asks a host's engine about what goes on in it.</summary>
public static class EngineActivity
{
    /// <summary>
    /// Whether nothing goes on by itself in <paramref name="system"/>'s engine: no workflow's actor has work in hand,
    /// and every piece of running workflow code (the top level and each parallel branch) awaits a timer, a signal, a
    /// child workflow, a step another host holds, or its own parallel block. A harness moves its virtual clock only
    /// then. A message on its way from one actor to another is not seen: ask twice in a row, with nothing between.
    /// False when the answer does not come within <paramref name="timeout"/>. One host's engine
    /// (<see cref="DurableWorkflows.Start(Akka.Actor.ActorSystem, WorkflowRegistry, IWorkflowObserver?)"/>); a cluster's region does not answer.
    /// </summary>
    /// <exception cref="InvalidOperationException">The engine was not started in <paramref name="system"/>.</exception>
    public static async Task<bool> IsQuietAsync(ActorSystem system, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        try
        {
            return await WorkflowClient.Of(system).Coordinator.Ask<bool>(QueryQuiet.Instance, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }
}
