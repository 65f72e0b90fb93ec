using Akka.Actor;
using Akka.Pattern;

namespace Durable.Actors.Runtime;

/// <summary>
/// Finds or creates the actor of a workflow id and routes messages to it. Each workflow actor sits under its own
/// backoff supervisor, which restarts it after a journal failure stopped it; it then recovers from its journal.
/// One workflow's failure never touches another.
/// </summary>
internal sealed class WorkflowCoordinatorActor : ReceiveActor
{
    private const int MaxWorkflowIdLength = 200;

    public WorkflowCoordinatorActor(WorkflowRuntime runtime)
    {
        Receive<IWorkflowCommand>(command =>
        {
            if (InvalidId(command.WorkflowId) is { } reason)
            {
                Sender.Tell(command is StartWorkflow ? new WorkflowRejected(command.WorkflowId ?? "", reason) : new WorkflowNotFound(command.WorkflowId ?? ""));
                return;
            }

            var name = Uri.EscapeDataString(command.WorkflowId);
            var child = Context.Child(name);
            if (child.IsNobody())
            {
                var workflowProps = Props.Create(() => new WorkflowActor(command.WorkflowId, runtime));
                var options = Backoff.OnStop(
                        workflowProps,
                        "workflow",
                        runtime.Settings.MinBackoff,
                        runtime.Settings.MaxBackoff,
                        randomFactor: 0.2,
                        maxNrOfRetries: -1)
                    // An exception in the actor is a bug of ours: stop it, so it restarts after the backoff and recovers.
                    .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Stop))
                    .WithAutoReset(runtime.Settings.MinBackoff)
                    .WithReplyWhileStopped(new WorkflowFailed(command.WorkflowId,
                        $"the actor of workflow '{command.WorkflowId}' is restarting after a failure; try again shortly"));
                child = Context.ActorOf(BackoffSupervisor.Props(options), name);
            }
            child.Forward(command);
        });
    }

    private static string? InvalidId(string? id) => id switch
    {
        null or "" => "the workflow id is empty",
        { Length: > MaxWorkflowIdLength } => $"the workflow id is longer than {MaxWorkflowIdLength} characters",
        _ when id.Any(char.IsControl) => "the workflow id contains control characters",
        _ when id.Trim() != id => "the workflow id starts or ends with white space",
        _ => null,
    };
}
