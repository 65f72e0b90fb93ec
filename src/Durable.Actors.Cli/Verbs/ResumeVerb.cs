using System.CommandLine;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>resume</c>: runs an existing workflow again; completed steps replay, the rest run.</summary>
internal static class ResumeVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var command = new Command("resume", "Run an existing workflow again: completed steps replay, the rest run")
        {
            id, o.Db, o.Effects, o.StaleTimeout, o.BusyTimeout,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => WorkflowRuns.RunAsync(
            new RunRequest([r.GetValue(id)!], o.Sends(r, o.Effects, o.StaleTimeout, o.BusyTimeout), r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(o.BusyTimeout),
                Start: null, CrashAfter: null), ct));
        return command;
    }
}
