using System.CommandLine;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>cancel</c>: cancels a workflow (durable before it says so), then runs it on until it ends (its cleanup steps run).</summary>
internal static class CancelVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var reason = new Option<string?>("--reason") { Description = "Why, kept with the record" };
        var command = new Command("cancel", "Cancel a workflow: it wakes, runs its cleanup steps and ends CANCELLED")
        {
            id, reason, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => RunAsync(r.GetValue(id)!, r.GetValue(reason), o.Sends(r, o.Effects), r.GetValue(o.Effects), ct));
        return command;
    }

    private static Task<int> RunAsync(string workflowId, string? reason, Targets.StoreOptions store, string? effectsLog, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            var exitCode = await WorkflowRuns.SendThenRunOnAsync("cancel", workflowId, store, effectsLog, new CancelWorkflow(workflowId, reason), reply => reply switch
            {
                CancellationRequested => $"cancellation of workflow {workflowId} requested",
                WorkflowRejected rejected => throw new UsageException(rejected.Describe($"workflow '{workflowId}' was not cancelled")),
                _ => null,
            }, cancellationToken);
            // What was asked for happened: the workflow ended cancelled.
            return exitCode == ExitCodes.Cancelled ? ExitCodes.Completed : exitCode;
        });
}
