using System.CommandLine;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>crash-after</c>: starts (or resumes) a workflow and kills the process at its N-th step (SQLite only).</summary>
internal static class CrashAfterVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var n = new Argument<int>("N") { Description = "Kill the process right after the N-th step's IN_PROGRESS record is durable, before its body runs" };
        var command = new Command("crash-after", "Start (or resume) a workflow and kill the process at its N-th step")
        {
            id, n, o.Type, o.Input, o.Db, o.Effects, o.StaleTimeout, o.BusyTimeout, o.AllowForeign,
        };
        command.SetAction((r, ct) => WorkflowRuns.RunAsync(
            new RunRequest([r.GetValue(id)!], StoreOptions.Sqlite(r.GetValue(o.Db)!), r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(o.BusyTimeout),
                Start: (r.GetValue(o.Type)!, r.GetValue(o.Input)), CrashAfter: r.GetValue(n), r.GetValue(o.AllowForeign)), ct));
        return command;
    }
}
