using System.CommandLine;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>list</c>: one page of workflows, newest first; the cursor of the next page ends it (on stderr with <c>--json</c>).</summary>
internal static class ListVerb
{
    public static Command Create(CliOptions o)
    {
        var limit = new Option<int>("--limit") { Description = "At most this many workflows (1 to 1000)", DefaultValueFactory = _ => 50 };
        var status = new Option<string?>("--status") { Description = $"Only workflows with this status: {Statuses()}" };
        var type = new Option<string?>("--type") { Description = "Only workflows of this type" };
        var prefix = new Option<string?>("--prefix") { Description = "Only workflows whose id starts with this (case-sensitive), e.g. order- or a parent's id/" };
        var after = new Option<string?>("--after") { Description = "The cursor printed at the end of the previous page: list the page after it" };
        var command = new Command("list", "List workflows with their status, newest first, one page at a time")
        {
            o.Db, o.OnCluster, o.OnClusterConfig, o.Json, limit, status, type, prefix, o.Where, after,
        };
        command.SetAction((r, ct) => RunAsync(
            o.Reads(r), r.GetValue(o.Json), r.GetValue(limit), r.GetValue(status), r.GetValue(type), r.GetValue(prefix), r.GetValue(after), r, o, ct));
        return command;
    }

    /// <summary>The statuses <c>list --status</c> takes, every one there is, for its help: <c>running, completed, failed, cancelled, paused or enqueued</c>.</summary>
    private static string Statuses()
    {
        var names = Enum.GetValues<WorkflowRunStatus>().Select(Text.StatusOption).ToArray();
        return $"{string.Join(", ", names[..^1])} or {names[^1]}";
    }

    private static Task<int> RunAsync(
        StoreOptions store, bool json, int limit, string? statusText, string? type, string? prefix, string? after, ParseResult r, CliOptions o,
        CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            WorkflowRunStatus? status = null;
            if (statusText is not null)
            {
                if (!Text.TryParseStatusOption(statusText, out var parsed))
                    throw new UsageException(
                        $"unknown status '{statusText}' (expected {string.Join(", ", Enum.GetValues<WorkflowRunStatus>().Select(Text.StatusOption))})");
                status = parsed;
            }
            var query = new WorkflowQuery { Status = status, Type = type, IdPrefix = prefix, Attributes = o.Filters(r), Limit = limit, After = after };
            try
            {
                query.Validate();
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new UsageException($"--limit must be from 1 to {WorkflowQuery.MaxLimit}, not {limit}");
            }
            catch (ArgumentException)
            {
                throw new UsageException($"--after '{after}' is not a cursor printed by list");
            }

            var (page, results, waits) = await Target.Of(store, "list", DatabaseUse.Reads).ReadPageAsync(query, details: json, cancellationToken);
            if (json)
                CliJson.Print(page.Items.Select(w => StatusView.From(w, results.GetValueOrDefault(w.WorkflowId), waits.GetValueOrDefault(w.WorkflowId))));
            else if (page.Items.Count == 0)
                Console.WriteLine(after is null ? "no workflows" : "no more workflows");
            else
                Text.PrintPage(page);
            if (page.NextCursor is { } cursor)
                (json ? Console.Error : Console.Out).WriteLine($"next page: --after {cursor}");
            return ExitCodes.Completed;
        });
}
