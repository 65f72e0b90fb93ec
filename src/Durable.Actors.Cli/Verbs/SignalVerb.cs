using System.CommandLine;
using System.Text.Json;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>signal</c>: delivers a signal (durable before it says so), then runs the workflow on until it ends or waits.</summary>
internal static class SignalVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var name = new Argument<string>("signalName") { Description = "The signal's name, as the workflow waits for it (the approval sample waits for 'decision')" };
        var payload = new Option<string?>("--payload") { Description = "The signal's payload as JSON, e.g. {\"approved\": true, \"by\": \"grace\"}" };
        var command = new Command("signal", "Deliver a signal to a workflow (durable before this says so), then run it on until it ends or waits")
        {
            id, name, payload, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => RunAsync(r.GetValue(id)!, r.GetValue(name)!, r.GetValue(payload), o.Sends(r, o.Effects), r.GetValue(o.Effects), ct));
        return command;
    }

    private static Task<int> RunAsync(string workflowId, string signalName, string? payload, Targets.StoreOptions store, string? effectsLog, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            if (payload is not null)
            {
                try
                {
                    using var _ = JsonDocument.Parse(payload);
                }
                catch (JsonException e)
                {
                    throw new UsageException($"--payload is not valid JSON: {e.Message}");
                }
            }
            return await WorkflowRuns.SendThenRunOnAsync("signal", workflowId, store, effectsLog, new SignalWorkflow(workflowId, signalName, payload), reply => reply switch
            {
                SignalDelivered => $"signal '{signalName}' delivered to workflow {workflowId}",
                WorkflowRejected rejected => throw new UsageException(rejected.Describe($"signal '{signalName}' was not delivered")),
                _ => null,
            }, cancellationToken);
        });
}
