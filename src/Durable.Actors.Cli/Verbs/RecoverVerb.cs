using System.CommandLine;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>recover</c>: resumes every unfinished workflow of the SQLite file and exits when they are done.</summary>
internal static class RecoverVerb
{
    public static Command Create(CliOptions o)
    {
        var command = new Command("recover", "Resume every workflow that was started and neither completed nor failed, and exit when they are done")
        {
            o.Db, o.Effects, o.StaleTimeout, o.BusyTimeout,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(o.Db)!, r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(o.BusyTimeout), ct));
        return command;
    }

    private static Task<int> RunAsync(string databasePath, string? effectsLog, string? staleTimeoutText, string? busyTimeoutText, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            var target = SqliteTarget.Of(databasePath, DatabaseUse.Runs(workflowId: null));
            var staleTimeout = Durations.ParseOptional(staleTimeoutText, "--stale-timeout");
            var busyTimeout = Durations.ParseOptional(busyTimeoutText, "--busy-timeout");

            await using var session = await target.OpenAsync(target.Registry(effectsLog), new EngineOptions(staleTimeout, busyTimeout), cancellationToken);
            var pending = await DurableWorkflows.GetPendingAsync(session.System, cancellationToken);
            if (pending.Count == 0)
            {
                Console.WriteLine("no unfinished workflows");
                return ExitCodes.Completed;
            }
            Console.WriteLine($"recovering {pending.Count} unfinished workflows: {string.Join(", ", pending)}");
            await session.BeginAsync(new ConsoleObserver(crashAfter: null), cancellationToken);
            return await WorkflowRuns.RunAllAsync(session, pending.Select(id => new ResumeWorkflow(id)), cancellationToken);
        });
}
