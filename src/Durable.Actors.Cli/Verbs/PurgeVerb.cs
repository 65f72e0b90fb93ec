using System.CommandLine;
using System.Globalization;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>purge</c>: deletes the ended workflows that its filters match, each one's rows in one transaction; with
/// <c>--dry-run</c> it names them and deletes nothing. At least one filter is required.
/// </summary>
internal static class PurgeVerb
{
    public static Command Create(CliOptions o)
    {
        var status = new Option<string?>("--status") { Description = "Only workflows with this status: completed, failed or cancelled" };
        var type = new Option<string?>("--type") { Description = "Only workflows of this type" };
        var prefix = new Option<string?>("--prefix") { Description = "Only workflows whose id starts with this (case-sensitive)" };
        var before = new Option<string?>("--before") { Description = "Only workflows that ended before this: a UTC time (2026-12-01T00:00:00Z) or a duration ago (72h)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Name the workflows that would be purged; delete nothing" };
        var children = new Option<bool>("--with-children") { Description = "Also purge the ended child workflows each one started" };
        var command = new Command("purge", "Delete ended workflows (completed, failed, cancelled): their events, index rows and signals")
        {
            o.Db, status, type, prefix, before, o.Where, dryRun, children,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var query = Query(r.GetValue(status), r.GetValue(type), r.GetValue(prefix), r.GetValue(before), o.Filters(r));
            var store = o.Sends(r);
            if (r.GetValue(dryRun))
                return await DryRunAsync(store, query, ct);
            var target = Target.Of(store, "purge", DatabaseUse.Runs(null));
            await using var session = await target.OpenAsync(target.Registry(null), EngineOptions.Default, ct);
            await session.BeginAsync(new ConsoleObserver(crashAfter: null), ct);
            var purged = await WorkflowClient.Of(session.System).PurgeAsync(query, r.GetValue(children), id => Console.WriteLine($"purged {id}"), ct);
            Console.WriteLine($"purged {Count(purged.Count)}");
            return ExitCodes.Completed;
        }));
        return command;
    }

    /// <summary>The query of the filters given; throws <see cref="UsageException"/> for none, or for one that is not valid.</summary>
    private static WorkflowQuery Query(string? statusText, string? type, string? prefix, string? beforeText, IReadOnlyList<AttributeFilter> attributes)
    {
        if (statusText is null && type is null && string.IsNullOrEmpty(prefix) && beforeText is null && attributes.Count == 0)
            throw new UsageException("purge needs a filter: --status, --type, --prefix, --before or --where (nothing was purged)");
        WorkflowRunStatus? status = null;
        if (statusText is not null)
        {
            if (!Text.TryParseStatusOption(statusText, out var parsed) || parsed.IsActive())
                throw new UsageException($"--status '{statusText}' cannot be purged: only ended workflows are (completed, failed or cancelled)");
            status = parsed;
        }
        DateTimeOffset? endedBefore = null;
        if (beforeText is not null)
        {
            endedBefore = DateTimeOffset.TryParse(beforeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : DateTimeOffset.UtcNow - Durations.Parse(beforeText, "--before");
        }
        return new WorkflowQuery { Status = status, Type = type, IdPrefix = prefix, EndedBefore = endedBefore, Attributes = attributes, Limit = WorkflowQuery.MaxLimit };
    }

    /// <summary>Names the ended workflows the query matches, reading the index only.</summary>
    private static async Task<int> DryRunAsync(StoreOptions store, WorkflowQuery query, CancellationToken cancellationToken)
    {
        var target = Target.Of(store, "purge", DatabaseUse.Reads);
        var count = 0;
        for (var page = query; ;)
        {
            var (found, _, _) = await target.ReadPageAsync(page, details: false, cancellationToken);
            foreach (var workflow in found.Items.Where(w => !w.Status.IsActive()))
            {
                Console.WriteLine($"would purge {workflow.WorkflowId} ({Text.WorkflowStatusName(workflow.Status)})");
                count++;
            }
            if (found.NextCursor is null)
                break;
            page = page with { After = found.NextCursor };
        }
        Console.WriteLine($"would purge {Count(count)} (dry run: nothing was deleted)");
        return ExitCodes.Completed;
    }

    private static string Count(int n) => n == 1 ? "1 workflow" : $"{n.ToString(CultureInfo.InvariantCulture)} workflows";
}
