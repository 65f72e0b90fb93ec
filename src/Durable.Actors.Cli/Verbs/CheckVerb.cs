using System.CommandLine;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>check</c>: replays the database's unfinished workflows (all with <c>--all</c>) against the samples' current code,
/// read-only and running no step body: exit 0 when every one is compatible, 1 when some are not.
/// </summary>
internal static class CheckVerb
{
    public static Command Create(CliOptions o)
    {
        var all = new Option<bool>("--all") { Description = "Check every workflow, not only the unfinished ones" };
        var command = new Command("check", "Replay the unfinished workflows against the current code, read-only, running no step: exit 0 all compatible, 1 some not")
        {
            o.Db, all, o.Json,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(o.Db)!, r.GetValue(all), r.GetValue(o.Json), ct));
        return command;
    }

    private static Task<int> RunAsync(string databasePath, bool all, bool json, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            // Read-only: even the checked uses' read-only connections would create or rewrite -wal/-shm. The checker
            // checks the file itself, without changing a byte.
            var target = SqliteTarget.Of(databasePath, DatabaseUse.Reads);
            var report = await WorkflowReplayChecker.CheckAsync(target.Database, target.Registry(effectsLog: null),
                new ReplayCheckOptions { IncludeFinished = all }, cancellationToken);
            if (json)
                CliJson.Print(new
                {
                    report.Database,
                    report.AllCompatible,
                    report.Workflows,
                    report.Divergences,
                    report.Patches,
                });
            else
                Text.PrintCheck(report, all);
            return report.AllCompatible ? ExitCodes.Completed : ExitCodes.Failed;
        });
}
