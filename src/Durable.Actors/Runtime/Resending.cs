using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// Asks that survive a lost node. On a cluster a message to a workflow on a node that dies is lost (sharding delivers
/// at most once), and an ask that timed out may still be delivered after the workflow's bucket restarts elsewhere. So
/// the engine sends again after every <c>resendAfter</c> without a reply, and only messages that are idempotent
/// (starts, resends of a signal or cancel with its delivery id, status reads) go this way. On one machine nothing is
/// lost between actors: a single ask without a timeout.
/// </summary>
internal static class Resending
{
    public static async Task<object> AskAsync(IActorRef target, object message, TimeSpan? resendAfter, CancellationToken cancellationToken)
    {
        if (resendAfter is not { } after)
            return await target.Ask<object>(message, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            try
            {
                return await target.Ask<object>(message, after, cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                // Lost with a node, or still buffered while its bucket moves: send it again.
            }
        }
    }
}
