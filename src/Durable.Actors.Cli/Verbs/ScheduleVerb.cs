using System.CommandLine;
using System.Globalization;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Scheduling;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>schedule create|list|show|pause|resume|delete|trigger|backfill</c>: the schedules of a SQLite file, or of a
/// cluster with <c>--postgres</c>. They change the schedules table only (a host that runs on the file, <c>serve</c>, or
/// the cluster's scheduler reads it again within <c>durable-actors.schedules.refresh-interval</c>); <c>trigger</c> and
/// <c>backfill</c> run the workflows they start as <c>start</c> does.
/// </summary>
internal static class ScheduleVerb
{
    public static Command Create(CliOptions o)
    {
        var command = new Command("schedule", "Create and operate schedules: workflows started at the ticks of a cron expression or an interval");
        command.Subcommands.Add(CreateCommand(o));
        command.Subcommands.Add(ListCommand(o));
        command.Subcommands.Add(ShowCommand(o));
        command.Subcommands.Add(ChangeCommand(o, "pause", "Pause a schedule: its ticks start nothing until it is resumed", "paused", (s, id, now) => s.SetPaused(id, true, now)));
        command.Subcommands.Add(ChangeCommand(o, "resume", "Resume a paused schedule from now (the ticks of the pause are not caught up)", "resumed", (s, id, now) => s.SetPaused(id, false, now)));
        command.Subcommands.Add(ChangeCommand(o, "delete", "Delete a schedule (the workflows it started are not changed)", "deleted", (s, id, _) => s.Delete(id)));
        command.Subcommands.Add(TriggerCommand(o));
        command.Subcommands.Add(BackfillCommand(o));
        return command;
    }

    private static Argument<string> ScheduleId() => new("scheduleId") { Description = "The schedule's id" };

    private static Command CreateCommand(CliOptions o)
    {
        var id = ScheduleId();
        var cron = new Option<string?>("--cron") { Description = "A cron expression: 5 fields, or 6 with seconds first, e.g. \"0 2 * * *\" (02:00 every day)" };
        var every = new Option<string?>("--every") { Description = "Or a fixed interval, e.g. 30s, 5m, 1h (ticks at whole multiples of it since 1970)" };
        var zone = new Option<string>("--time-zone") { Description = "The time zone the cron expression is read in, e.g. Europe/Paris", DefaultValueFactory = _ => "UTC" };
        var overlap = new Option<string>("--overlap")
        {
            Description = "What a tick does while a workflow of an earlier tick runs: skip, buffer-one, allow-all or cancel-other",
            DefaultValueFactory = _ => "skip",
        };
        var catchUp = new Option<string>("--catch-up") { Description = "How far back ticks missed while no host ran are fired, e.g. 0s, 1m, 1h", DefaultValueFactory = _ => "1m" };
        var queue = new Option<string?>("--queue") { Description = "Enqueue each tick's workflow on this queue (declared in the --config of the host that fires it) instead of starting it" };
        var command = new Command("create", "Create a schedule of the file or cluster (a host running on it fires it)")
        {
            id, cron, every, zone, o.Type, o.Input, overlap, catchUp, queue, o.Db, o.OnCluster,
        };
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var spec = new ScheduleSpec(r.GetValue(id)!, r.GetValue(o.Type)!)
            {
                Cron = r.GetValue(cron),
                Every = Durations.ParseOptional(r.GetValue(every), "--every"),
                TimeZone = r.GetValue(zone)!,
                Overlap = Overlap(r.GetValue(overlap)!),
                CatchUpWindow = Durations.Parse(r.GetValue(catchUp)!, "--catch-up"),
                Queue = r.GetValue(queue),
            };
            var registry = Registry();
            spec = spec with { InputJson = r.GetValue(o.Input) ?? SampleWorkflows.DefaultInput(spec.WorkflowType, registry.JsonOptions) ?? "null" };
            try
            {
                ScheduleClient.Check(spec, registry);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message.TrimEnd('.'));
            }
            var tables = FlowTables.Of(o.Reads(r), "schedule create", DatabaseUse.Writes(null))!;
            var now = DateTimeOffset.UtcNow;
            if (!await Task.Run(() => new ScheduleStore(tables.Tables).Insert(spec, now), ct))
                throw new UsageException($"schedule '{spec.ScheduleId}' exists in {tables.Description}; delete it first to replace it");
            var info = ScheduleClient.Info(new ScheduleRow(spec, false, now, null, null), now);
            Console.WriteLine($"created schedule {spec.ScheduleId}: {When(spec)}, starts {spec.WorkflowType}; next tick {Next(info)}");
            return ExitCodes.Completed;
        }));
        return command;
    }

    private static Command ListCommand(CliOptions o)
    {
        var command = new Command("list", "List the schedules with their next ticks") { o.Db, o.OnCluster, o.Json };
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var (rows, _) = await ReadAsync(o.Reads(r), "schedule list", store => store.All(), ct);
            var now = DateTimeOffset.UtcNow;
            var infos = rows.Select(row => ScheduleClient.Info(row, now)).ToList();
            if (r.GetValue(o.Json))
                CliJson.Print(infos.Select(ScheduleView.From));
            else if (infos.Count == 0)
                Console.WriteLine("no schedules");
            else
                Text.PrintTable(["SCHEDULE", "WHEN", "TYPE", "OVERLAP", "STATE", "LAST TICK", "NEXT TICK"], infos.Select(i => new[]
                {
                    i.Spec.ScheduleId, When(i.Spec), i.Spec.WorkflowType, OverlapName(i.Spec.Overlap), i.Paused ? "paused" : "active",
                    i.LastTickAt is { } last ? Text.Time(last) : "-", Next(i),
                }));
            return ExitCodes.Completed;
        }));
        return command;
    }

    private static Command ShowCommand(CliOptions o)
    {
        var id = ScheduleId();
        var command = new Command("show", "Show one schedule") { id, o.Db, o.OnCluster, o.Json };
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var scheduleId = r.GetValue(id)!;
            var (rows, where) = await ReadAsync(o.Reads(r), "schedule show", store => store.Get(scheduleId) is { } found ? [found] : [], ct);
            var row = rows.SingleOrDefault() ?? throw Unknown(scheduleId, where);
            var info = ScheduleClient.Info(row, DateTimeOffset.UtcNow);
            if (r.GetValue(o.Json))
            {
                CliJson.Print(ScheduleView.From(info));
                return ExitCodes.Completed;
            }
            Console.WriteLine($"schedule {scheduleId}: {When(info.Spec)} in {info.Spec.TimeZone}, starts {info.Spec.WorkflowType} with input {info.Spec.InputJson}");
            Console.WriteLine($"overlap {OverlapName(info.Spec.Overlap)}, catch-up window {info.Spec.CatchUpWindow}, {(info.Paused ? "paused" : "active")}");
            Console.WriteLine($"created {Text.Time(info.CreatedAt)}, last tick {(info.LastTickAt is { } last ? Text.Time(last) : "-")}, next tick {Next(info)}");
            return ExitCodes.Completed;
        }));
        return command;
    }

    private static Command ChangeCommand(CliOptions o, string name, string description, string done, Func<ScheduleStore, string, DateTimeOffset, bool> change)
    {
        var id = ScheduleId();
        var command = new Command(name, description) { id, o.Db, o.OnCluster };
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var scheduleId = r.GetValue(id)!;
            var tables = FlowTables.Of(o.Reads(r), "schedule " + name, DatabaseUse.Runs(null))!;
            if (!await Task.Run(() => change(new ScheduleStore(tables.Tables), scheduleId, DateTimeOffset.UtcNow), ct))
                throw Unknown(scheduleId, tables.Description);
            Console.WriteLine($"{done} schedule {scheduleId}");
            return ExitCodes.Completed;
        }));
        return command;
    }

    private static Command TriggerCommand(CliOptions o)
    {
        var id = ScheduleId();
        var command = new Command("trigger", "Start the schedule's workflow now (<id>@<now>) and run it as start does, whatever its overlap policy")
        {
            id, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var (spec, _) = await ScheduleOfAsync(o.Sends(r, o.Effects), "schedule trigger", r.GetValue(id)!, ct);
            var now = DateTimeOffset.UtcNow;
            var workflowId = ScheduleTimes.WorkflowId(spec.ScheduleId, new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
            return await RunAsync(o, r, spec, [workflowId], ct);
        }));
        return command;
    }

    private static Command BackfillCommand(CliOptions o)
    {
        var id = ScheduleId();
        var from = new Option<string>("--from") { Description = "The first instant (included), e.g. 2026-12-01T00:00:00Z", Required = true };
        var to = new Option<string>("--to") { Description = "The last instant (excluded)", Required = true };
        var command = new Command("backfill", "Start the workflow of every tick from --from to --to (a tick's existing workflow is found, not started again) and run them as start does")
        {
            id, from, to, o.Db, o.Effects,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var (spec, times) = await ScheduleOfAsync(o.Sends(r, o.Effects), "schedule backfill", r.GetValue(id)!, ct);
            var (start, end) = (Instant(r.GetValue(from)!, "--from"), Instant(r.GetValue(to)!, "--to"));
            if (end <= start)
                throw new UsageException($"--to {r.GetValue(to)} is not after --from {r.GetValue(from)}");
            var ids = new List<string>();
            for (var tick = times.After(start.AddTicks(-1)); tick is { } t && t < end; tick = times.After(t))
            {
                if (ids.Count == ScheduleClient.MaxBackfill)
                    throw new UsageException($"the range holds more than {ScheduleClient.MaxBackfill:N0} ticks of schedule '{spec.ScheduleId}'; backfill a shorter one");
                ids.Add(ScheduleTimes.WorkflowId(spec.ScheduleId, t));
            }
            if (ids.Count == 0)
            {
                Console.WriteLine($"no tick of schedule {spec.ScheduleId} in the range");
                return ExitCodes.Completed;
            }
            return await RunAsync(o, r, spec, ids, ct);
        }));
        return command;
    }

    /// <summary>Runs the workflows of <paramref name="ids"/> with the schedule's type and input, as <c>start</c> does.</summary>
    private static Task<int> RunAsync(CliOptions o, ParseResult r, ScheduleSpec spec, IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        WorkflowRuns.RunAsync(new RunRequest(ids, o.Sends(r, o.Effects), r.GetValue(o.Effects), null, null, Start: (spec.WorkflowType, spec.InputJson), CrashAfter: null),
            cancellationToken);

    private static async Task<(ScheduleSpec Spec, ScheduleTimes Times)> ScheduleOfAsync(StoreOptions store, string command, string scheduleId, CancellationToken cancellationToken)
    {
        var (rows, where) = await ReadAsync(store, command, s => s.Get(scheduleId) is { } found ? [found] : [], cancellationToken);
        var row = rows.SingleOrDefault() ?? throw Unknown(scheduleId, where);
        try
        {
            return (row.Spec, ScheduleTimes.Of(row.Spec));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message.TrimEnd('.'));
        }
    }

    private static WorkflowRegistry Registry() => SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log"));

    /// <summary>
    /// The rows <paramref name="read"/> takes of the target's schedules, and how messages name the target; none when
    /// the file or its table does not exist.
    /// </summary>
    private static async Task<(List<ScheduleRow> Rows, string Where)> ReadAsync(StoreOptions store, string command, Func<ScheduleStore, IEnumerable<ScheduleRow>> read,
        CancellationToken cancellationToken)
    {
        if (FlowTables.Of(store, command, DatabaseUse.Reads) is not { } tables)
            return ([], $"database '{Path.GetFullPath(store.Database)}'");
        return (await Task.Run(() => read(new ScheduleStore(tables.Tables)).ToList(), cancellationToken), tables.Description);
    }

    private static UsageException Unknown(string scheduleId, string where) => new($"unknown schedule '{scheduleId}' in {where}");

    private static ScheduleOverlap Overlap(string text) => text switch
    {
        "skip" => ScheduleOverlap.Skip,
        "buffer-one" => ScheduleOverlap.BufferOne,
        "allow-all" => ScheduleOverlap.AllowAll,
        "cancel-other" => ScheduleOverlap.CancelOther,
        _ => throw new UsageException($"--overlap '{text}' is not one of skip, buffer-one, allow-all, cancel-other"),
    };

    private static string OverlapName(ScheduleOverlap overlap) => overlap switch
    {
        ScheduleOverlap.Skip => "skip",
        ScheduleOverlap.BufferOne => "buffer-one",
        ScheduleOverlap.AllowAll => "allow-all",
        _ => "cancel-other",
    };

    private static string When(ScheduleSpec spec) => spec.Cron is { } cron ? $"cron \"{cron}\"" : $"every {spec.Every}";

    private static string Next(ScheduleInfo info) => info.Paused ? "none (paused)" : info.NextTickAt is { } next ? Text.Time(next) : "none";

    private static DateTimeOffset Instant(string text, string option) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new UsageException($"{option} '{text}' is not a time; use ISO 8601, e.g. 2026-12-01T00:00:00Z");

    /// <summary>A schedule as <c>--json</c> prints it.</summary>
    private sealed record ScheduleView(
        string ScheduleId, string WorkflowType, string? Cron, string? Every, string TimeZone, string Overlap, string CatchUpWindow, bool Paused,
        DateTimeOffset CreatedAt, DateTimeOffset? LastTickAt, DateTimeOffset? NextTickAt)
    {
        public static ScheduleView From(ScheduleInfo i) => new(
            i.Spec.ScheduleId, i.Spec.WorkflowType, i.Spec.Cron, i.Spec.Every?.ToString(), i.Spec.TimeZone, OverlapName(i.Spec.Overlap),
            i.Spec.CatchUpWindow.ToString(), i.Paused, i.CreatedAt, i.LastTickAt, i.NextTickAt);
    }
}
