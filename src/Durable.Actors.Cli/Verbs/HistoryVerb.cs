using System.CommandLine;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>history</c>: every step and durable wait of a workflow, in key order.</summary>
internal static class HistoryVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var command = new Command("history", "Show every step of a workflow: key, step id, status, attempts, times, result") { id, o.Db, o.OnCluster, o.OnClusterConfig, o.Json };
        command.SetAction((r, ct) => ReadAsync("history", r.GetValue(id)!, o.Reads(r), (status, waits) =>
        {
            if (r.GetValue(o.Json))
                CliJson.Print(HistoryView.From(status, waits));
            else
                Text.PrintHistory(status, waits);
        }, ct));
        return command;
    }

    /// <summary>Reads a workflow's status and waits (what <c>status</c> and <c>history</c> print), or says it is unknown.</summary>
    public static Task<int> ReadAsync(
        string verb, string workflowId, StoreOptions store, Action<WorkflowStatus, IReadOnlyList<WaitRecord>> print, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            var target = Target.Of(store, verb, DatabaseUse.Reads);
            var (status, waits) = await target.ReadHistoryAsync(workflowId, cancellationToken)
                ?? throw new UsageException($"unknown workflow '{workflowId}' in {target.Description}");
            print(status, waits);
            return ExitCodes.Completed;
        });
}
