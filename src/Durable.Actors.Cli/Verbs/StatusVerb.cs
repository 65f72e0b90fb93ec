using System.CommandLine;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>status</c>: a workflow's status, read from the journal.</summary>
internal static class StatusVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var command = new Command("status", "Show a workflow's status, read from the journal") { id, o.Db, o.OnCluster, o.OnClusterConfig, o.Json };
        command.SetAction((r, ct) => HistoryVerb.ReadAsync("status", r.GetValue(id)!, o.Reads(r), (status, _) =>
        {
            if (r.GetValue(o.Json))
                CliJson.Print(StatusView.From(status));
            else
                Console.WriteLine(Text.StatusLine(status));
        }, ct));
        return command;
    }
}
