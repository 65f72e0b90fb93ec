using System.CommandLine;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>pause</c>: pauses a running workflow (durable before it says so); <c>unpause</c>: ends the pause, then runs the
/// workflow on until it ends or waits.
/// </summary>
internal static class PauseVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var reason = new Option<string?>("--reason") { Description = "Why, shown with its status" };
        var command = new Command("pause", "Pause a running workflow: it begins no new step or wait until it is unpaused")
        {
            id, reason, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(() =>
        {
            var workflowId = r.GetValue(id)!;
            return WorkflowRuns.SendThenRunOnAsync("pause", workflowId, o.Sends(r, o.Effects), r.GetValue(o.Effects),
                new PauseWorkflow(workflowId, r.GetValue(reason)), reply => reply switch
                {
                    WorkflowPaused => $"workflow {workflowId} paused: it begins no new step or wait until it is unpaused",
                    WorkflowRejected rejected => throw new UsageException(rejected.Describe($"workflow '{workflowId}' was not paused")),
                    _ => null,
                }, ct, runOn: false);
        }));
        return command;
    }

    public static Command CreateUnpause(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var command = new Command("unpause", "Unpause a workflow, then run it on until it ends or waits")
        {
            id, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(() =>
        {
            var workflowId = r.GetValue(id)!;
            return WorkflowRuns.SendThenRunOnAsync("unpause", workflowId, o.Sends(r, o.Effects), r.GetValue(o.Effects),
                new UnpauseWorkflow(workflowId), reply => reply switch
                {
                    WorkflowUnpaused => $"workflow {workflowId} unpaused",
                    WorkflowRejected rejected => throw new UsageException(rejected.Describe($"workflow '{workflowId}' was not unpaused")),
                    _ => null,
                }, ct);
        }));
        return command;
    }
}
