using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Storage;

namespace Durable.Actors.Cli;

/// <summary>What <c>start</c>, <c>resume</c> and <c>crash-after</c> were asked to do.</summary>
internal sealed record RunRequest(
    IReadOnlyList<string> WorkflowIds,
    StoreOptions Store,
    string? EffectsLog,
    string? StaleTimeout,
    string? BusyTimeout,
    (string Type, string? Input)? Start,
    int? CrashAfter,
    bool AllowForeignDatabase = false);

internal static class Commands
{
    public static Task<int> RunAsync(RunRequest request, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        if (request.Store.Cluster(request.Start is null ? "resume" : "start") is { } cluster)
            return await RunOnClusterAsync(request, cluster, cancellationToken);
        var database = request.Start is null
            ? CheckDatabase(request.Store.Database, mustExist: true, request.WorkflowIds[0], reading: true)
            : CheckDatabase(request.Store.Database, mustExist: false, request.WorkflowIds[0], reading: false, request.AllowForeignDatabase);
        var staleTimeout = Durations.ParseOptional(request.StaleTimeout, "--stale-timeout");
        var busyTimeout = Durations.ParseOptional(request.BusyTimeout, "--busy-timeout");
        if (request.CrashAfter is < 1)
            throw new UsageException($"N must be 1 or more, not {request.CrashAfter}");
        if (request.WorkflowIds.Distinct().Count() != request.WorkflowIds.Count)
            throw new UsageException("a workflow id is given twice");

        var registry = Registry(database, request.EffectsLog);
        var command = request.Start is var (type, input)
            ? StartCommand(registry, type, input)
            : id => new ResumeWorkflow(id);

        await using var host = CliHost.Create(database, staleTimeout, busyTimeout, request.AllowForeignDatabase);
        if (request.Start is null)
        {
            foreach (var id in request.WorkflowIds)
            {
                if (await DurableWorkflows.GetStatusAsync(host.System, id, cancellationToken) is null)
                    throw new UsageException($"unknown workflow '{id}' in database '{database}'");
            }
        }
        var observer = new ConsoleObserver(request.CrashAfter);
        var coordinator = DurableWorkflows.Start(host.System, registry, observer);
        if (request.Start is var (requestedType, requestedInput))
            await WarnWhenRecordedStartDiffersAsync(host.System, request.WorkflowIds, requestedType, requestedInput, cancellationToken);
        var exitCode = await RunAllAsync(coordinator.Ask<object>, request.WorkflowIds.Select(command), Store(database), cancellationToken);
        observer.ReportCrashNotReached();
        return exitCode;
    });

    /// <summary>
    /// <c>start</c> and <c>resume</c> on a cluster: checks the input and the ids against the journal in PostgreSQL, then
    /// joins as a proxy-only member, sends each command through the shard region and prints each outcome as on one
    /// machine (the steps run, and print, on the nodes); leaves the cluster before it exits.
    /// </summary>
    private static async Task<int> RunOnClusterAsync(RunRequest request, ClusterTarget cluster, CancellationToken cancellationToken)
    {
        if (request.WorkflowIds.Distinct().Count() != request.WorkflowIds.Count)
            throw new UsageException("a workflow id is given twice");
        var registry = SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log"));
        var command = request.Start is var (type, input)
            ? StartCommand(registry, type, input)
            : id => new ResumeWorkflow(id);

        await using var host = await ClusterCliHost.OpenMemberAsync(cluster, registry);
        if (request.Start is var (requestedType, requestedInput))
            await NoJournalAsEmptyAsync(async () =>
            {
                await WarnWhenRecordedStartDiffersAsync(host.System, request.WorkflowIds, requestedType, requestedInput, cancellationToken);
                return true;
            }, true);
        else
        {
            foreach (var id in request.WorkflowIds)
            {
                if (await NoJournalAsEmptyAsync(() => DurableWorkflows.GetStatusAsync(host.System, id, cancellationToken), null) is null)
                    throw new UsageException($"unknown workflow '{id}' in {cluster.Description}");
            }
        }
        await host.JoinAsync(cancellationToken);
        return await RunAllAsync(host.AskAsync, request.WorkflowIds.Select(command), cluster.Description, cancellationToken);
    }

    /// <summary>
    /// A cluster's new PostgreSQL database has no journal table until a node first writes (the CLI creates none: it
    /// writes nothing): read there as a journal without workflows.
    /// </summary>
    private static async Task<T> NoJournalAsEmptyAsync<T>(Func<Task<T>> read, T empty)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e.GetBaseException() is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UndefinedTable })
        {
            return empty;
        }
    }

    /// <summary>How messages name a SQLite database.</summary>
    private static string Store(string database) => $"database '{database}'";

    public static Task<int> RecoverAsync(string databasePath, string? effectsLog, string? staleTimeoutText, string? busyTimeoutText, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var database = CheckDatabase(databasePath, mustExist: true, workflowId: null, reading: true);
            var staleTimeout = Durations.ParseOptional(staleTimeoutText, "--stale-timeout");
            var busyTimeout = Durations.ParseOptional(busyTimeoutText, "--busy-timeout");
            var registry = Registry(database, effectsLog);

            await using var host = CliHost.Create(database, staleTimeout, busyTimeout);
            var pending = await DurableWorkflows.GetPendingAsync(host.System, cancellationToken);
            if (pending.Count == 0)
            {
                Console.WriteLine("no unfinished workflows");
                return ExitCodes.Completed;
            }
            Console.WriteLine($"recovering {pending.Count} unfinished workflows: {string.Join(", ", pending)}");
            var coordinator = DurableWorkflows.Start(host.System, registry, new ConsoleObserver(crashAfter: null));
            return await RunAllAsync(coordinator.Ask<object>, pending.Select(id => new ResumeWorkflow(id)), Store(database), cancellationToken);
        });

    /// <summary>
    /// Starting an existing id resumes it with its recorded type and input (idempotent start): when <c>--type</c> or an
    /// explicit <c>--input</c> differs from the recorded one, says so on stderr, once per id, and goes on.
    /// </summary>
    private static async Task WarnWhenRecordedStartDiffersAsync(
        ActorSystem system, IEnumerable<string> workflowIds, string type, string? input, CancellationToken cancellationToken)
    {
        foreach (var id in workflowIds)
        {
            if (await JournalReader.GetRecordedStartAsync(system, id, cancellationToken) is not var (recordedType, recordedInput))
                continue;
            var typeDiffers = recordedType != type;
            var inputDiffers = input is not null && !JsonNode.DeepEquals(JsonNode.Parse(input), JsonNode.Parse(recordedInput));
            if (typeDiffers || inputDiffers)
                Console.Error.WriteLine(
                    $"warning: workflow '{id}' already exists with type '{recordedType}' and input {recordedInput}; " +
                    $"it resumes with those, not with the {(typeDiffers && inputDiffers ? "--type and --input" : typeDiffers ? $"--type '{type}'" : "--input")} given");
        }
    }

    /// <summary>
    /// Hosts the engine until SIGINT or SIGTERM: resumes the unfinished workflows, fires their timers when due, and runs
    /// on the ones that signals or cancellations wake. On stop, steps still running are left to recovery.
    /// </summary>
    public static Task<int> ServeAsync(string databasePath, string? effectsLog, string? staleTimeoutText, string? busyTimeoutText, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var database = CheckDatabase(databasePath, mustExist: false, workflowId: null, reading: false);
            var staleTimeout = Durations.ParseOptional(staleTimeoutText, "--stale-timeout");
            var busyTimeout = Durations.ParseOptional(busyTimeoutText, "--busy-timeout");
            await using var host = CliHost.Create(database, staleTimeout, busyTimeout, serve: true);
            DurableWorkflows.Start(host.System, Registry(database, effectsLog), new ConsoleObserver(crashAfter: null));
            using var stop = new StopSignals(cancellationToken);
            Console.WriteLine($"serving {database}; stop with Ctrl+C or SIGTERM");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            Console.WriteLine("stopping: steps still running are left to recovery");
            return ExitCodes.Completed;
        });

    /// <summary>Delivers a signal (durable before it says so), then runs the workflow on until it ends or waits.</summary>
    public static Task<int> SignalAsync(string workflowId, string signalName, string? payload, StoreOptions store, string? effectsLog, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
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
            return await SendThenRunOnAsync("signal", workflowId, store, effectsLog, new SignalWorkflow(workflowId, signalName, payload), reply => reply switch
            {
                SignalDelivered => $"signal '{signalName}' delivered to workflow {workflowId}",
                WorkflowRejected rejected => throw new UsageException(rejected.Describe($"signal '{signalName}' was not delivered")),
                _ => null,
            }, cancellationToken);
        });

    /// <summary>Cancels a workflow (durable before it says so), then runs it on until it ends (its cleanup steps run).</summary>
    public static Task<int> CancelAsync(string workflowId, string? reason, StoreOptions store, string? effectsLog, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var exitCode = await SendThenRunOnAsync("cancel", workflowId, store, effectsLog, new CancelWorkflow(workflowId, reason), reply => reply switch
            {
                CancellationRequested => $"cancellation of workflow {workflowId} requested",
                WorkflowRejected rejected => throw new UsageException(rejected.Describe($"workflow '{workflowId}' was not cancelled")),
                _ => null,
            }, cancellationToken);
            // What was asked for happened: the workflow ended cancelled.
            return exitCode == ExitCodes.Cancelled ? ExitCodes.Completed : exitCode;
        });

    private static async Task<int> SendThenRunOnAsync(
        string commandName, string workflowId, StoreOptions store, string? effectsLog, IWorkflowCommand command, Func<object, string?> acknowledged,
        CancellationToken cancellationToken)
    {
        if (store.Cluster(commandName) is { } cluster)
        {
            // The client sends again what is not answered in time: a signal or cancel carries a delivery id, so a resend
            // is delivered once and answered as the first was.
            command = command switch
            {
                SignalWorkflow { DeliveryId: null } signal => signal with { DeliveryId = Guid.NewGuid().ToString("N") },
                CancelWorkflow { DeliveryId: null } cancel => cancel with { DeliveryId = Guid.NewGuid().ToString("N") },
                _ => command,
            };
            await using var member = await ClusterCliHost.OpenMemberAsync(cluster, SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log")));
            var running = await StatusBeforeAsync(member.System, cluster.Description);
            await member.JoinAsync(cancellationToken);
            return await SendAsync(member.AskAsync, cluster.Description, running);
        }

        var database = CheckDatabase(store.Database, mustExist: true, workflowId, reading: true);
        var registry = Registry(database, effectsLog);
        await using var host = CliHost.Create(database);
        var wasRunning = await StatusBeforeAsync(host.System, Store(database));
        var coordinator = DurableWorkflows.Start(host.System, registry, new ConsoleObserver(crashAfter: null));
        return await SendAsync(coordinator.Ask<object>, Store(database), wasRunning);

        async Task<bool> StatusBeforeAsync(ActorSystem system, string where)
        {
            var before = await NoJournalAsEmptyAsync(() => DurableWorkflows.GetStatusAsync(system, workflowId, cancellationToken), null)
                ?? throw new UsageException($"unknown workflow '{workflowId}' in {where}");
            return before.Status == WorkflowRunStatus.Running;
        }

        async Task<int> SendAsync(Func<object, CancellationToken, Task<object>> ask, string where, bool wasRunning)
        {
            var reply = await ask(command, cancellationToken);
            if (reply is WorkflowNotFound)
                throw new UsageException($"unknown workflow '{workflowId}' in {where}");
            Console.WriteLine(acknowledged(reply) ?? throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."));
            // A running workflow runs on (the engine started its run already: this joins it, or reads how it ended). A
            // failed one is left for `resume`.
            if (!wasRunning)
                return ExitCodes.Completed;
            return await RunAllAsync(ask, [new ResumeWorkflow(workflowId)], where, cancellationToken);
        }
    }

    /// <summary>The workflow types the CLI runs, for its help.</summary>
    public static IReadOnlyCollection<string> WorkflowTypes() =>
        SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log")).WorkflowTypes;

    /// <summary>Sends every command at once, prints each outcome; 0 when all completed, 1 when one failed.</summary>
    private static async Task<int> RunAllAsync(
        Func<object, CancellationToken, Task<object>> ask, IEnumerable<IWorkflowCommand> commands, string store, CancellationToken cancellationToken)
    {
        var replies = await Task.WhenAll(commands.Select(async c => (Command: c, Reply: await ask(c, cancellationToken))));
        var exitCode = ExitCodes.Completed;
        foreach (var (command, reply) in replies)
        {
            switch (reply)
            {
                case WorkflowCompleted completed:
                    Console.WriteLine($"workflow {completed.WorkflowId} completed: {completed.ResultJson}");
                    break;
                case WorkflowFailed failed:
                    Console.WriteLine($"workflow {failed.WorkflowId} failed: {failed.Error}");
                    exitCode = Math.Max(exitCode, ExitCodes.Failed);
                    break;
                case WorkflowWaiting waiting:
                    Console.WriteLine($"{waiting.WorkflowId} waiting: {waiting.WaitingFor}");
                    exitCode = Math.Max(exitCode, ExitCodes.Waiting);
                    break;
                case WorkflowCancelled cancelled:
                    Console.WriteLine($"workflow {cancelled.WorkflowId} cancelled" + (cancelled.Reason is { } reason ? $": {reason}" : ""));
                    exitCode = Math.Max(exitCode, ExitCodes.Cancelled);
                    break;
                case WorkflowRejected rejected:
                    throw new UsageException(rejected.Describe($"workflow '{rejected.WorkflowId}' was not started"));
                case WorkflowNotFound:
                    throw new UsageException($"unknown workflow '{command.WorkflowId}' in {store}");
                default:
                    throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}.");
            }
        }
        return exitCode;
    }

    /// <summary>
    /// Replays the database's unfinished workflows (all with <paramref name="all"/>) against the samples' current code,
    /// read-only and running no step body: exit 0 when every one is compatible, 1 when some are not.
    /// </summary>
    public static Task<int> CheckAsync(string databasePath, bool all, bool json, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            // Not CheckDatabase: even its read-only connections would create or rewrite -wal/-shm. The checker checks
            // the file itself, without changing a byte.
            var database = Path.GetFullPath(databasePath);
            var report = await WorkflowReplayChecker.CheckAsync(database, Registry(database, effectsLog: null),
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
                PrintCheck(report, all);
            return report.AllCompatible ? ExitCodes.Completed : ExitCodes.Failed;
        });

    private static void PrintCheck(ReplayCheckReport report, bool all)
    {
        var which = all ? "workflows" : "unfinished workflows";
        if (report.Workflows.Count == 0)
        {
            Console.WriteLine($"no {which} to check in {report.Database}{(all ? "" : " (--all checks finished ones too)")}");
            return;
        }
        var compatible = report.Workflows.Count(w => w.IsCompatible);
        Console.WriteLine($"checked {report.Workflows.Count} {which} against the current code: {compatible} compatible, {report.Workflows.Count - compatible} not");
        foreach (var w in report.Workflows)
        {
            var type = w.WorkflowType.Length == 0 ? "" : $" ({w.WorkflowType}, {WorkflowStatusName(w.Status)})";
            var verdict = w.Verdict switch
            {
                ReplayVerdict.Compatible => "compatible",
                ReplayVerdict.Incompatible => "INCOMPATIBLE",
                ReplayVerdict.TypeNotRegistered => "TYPE NOT REGISTERED",
                ReplayVerdict.InputUnreadable => "INPUT UNREADABLE",
                _ => "JOURNAL UNREADABLE",
            };
            Console.WriteLine($"{w.WorkflowId}{type} {verdict}: {w.Detail}");
            foreach (var note in w.Notes)
                Console.WriteLine($"  note: {note}");
        }
        if (report.Divergences.Count > 0)
        {
            Console.WriteLine("divergences:");
            foreach (var group in report.Divergences)
                Console.WriteLine($"  {group.WorkflowIds.Count} × {group.Divergence}: {string.Join(", ", group.WorkflowIds)}");
        }
        if (report.Patches.Count > 0)
        {
            Console.WriteLine("patches:");
            foreach (var patch in report.Patches)
                Console.WriteLine(patch.OldPath.Count == 0
                    ? $"  {patch.PatchId}: no unfinished workflow needs the old path ({patch.NewPath.Count} took the new one): the old branch can be deleted"
                    : $"  {patch.PatchId}: {patch.OldPath.Count} unfinished workflows still need the old path ({string.Join(", ", patch.OldPath)}); {patch.NewPath.Count} took the new one");
        }
    }

    internal static WorkflowRegistry Registry(string database, string? effectsLog) =>
        SampleWorkflows.Register(new WorkflowRegistry(),
            new EffectsLog(effectsLog ?? Path.Combine(Path.GetDirectoryName(database)!, "effects.log")));

    /// <summary>
    /// Resolves the path and refuses, before anything touches the disk, a file that is not a sound SQLite database (it is
    /// scanned whole: the commands that call this write to it), a database that does not exist when the command needs
    /// one, a database without the engine's journal for a command that reads one (<paramref name="reading"/>), and
    /// another application's database for a command that would add the journal to it, unless <paramref name="allowForeign"/>.
    /// </summary>
    internal static string CheckDatabase(string path, bool mustExist, string? workflowId, bool reading, bool allowForeign = false)
    {
        var database = Path.GetFullPath(path);
        SqliteDatabase.EnsureSqliteOrAbsent(database);
        if (!File.Exists(database))
        {
            if (mustExist)
                throw Missing(database, workflowId);
            return database;
        }

        SqliteDatabase.EnsureIntact(database);
        var tables = SqliteDatabase.Tables(database);
        if (reading && !SqliteDatabase.HasJournalTable(tables))
            throw NoJournal(database, tables);
        if (!reading && !allowForeign && tables.Count > 0 && !SqliteDatabase.HasJournalTable(tables))
            throw new UsageException(
                $"'{database}' is another application's SQLite database (tables: {SqliteDatabase.Describe(tables)}); it was left untouched. " +
                "Use another --db, or --allow-foreign-database to add the journal tables to it");
        return database;
    }

    private static UsageException Missing(string database, string? workflowId) => new(workflowId is null
        ? $"database '{database}' does not exist"
        : $"unknown workflow '{workflowId}': database '{database}' does not exist");

    private static UsageException NoJournal(string database, IReadOnlyList<string> tables) => new(tables.Count == 0
        ? $"'{database}' has no Durable.Actors journal: it is an empty SQLite database (no workflow was ever started in it)"
        : $"'{database}' has no Durable.Actors journal: it is another application's SQLite database (tables: {SqliteDatabase.Describe(tables)})");

    /// <summary>
    /// What <c>status</c>, <c>history</c> and <c>list</c> read from an existing SQLite file: read directly, with no
    /// ActorSystem, writing nothing, after a check of SQLite's header and the schema only (not a scan of every page:
    /// that is <c>check</c>'s). Only a file that needs a host is read through one: events of another serializer, or a
    /// database without the workflow index (a host builds it), which <paramref name="read"/> says by throwing
    /// <see cref="NotSupportedException"/>.
    /// </summary>
    private static async Task<T> ReadDatabaseAsync<T>(string database, string? workflowId, Func<JournalFile, T> read, Func<ActorSystem, Task<T>> throughHost)
    {
        SqliteDatabase.EnsureNotFolder(database);
        try
        {
            while (true)
            {
                if (!File.Exists(database))
                    throw Missing(database, workflowId);
                using var file = JournalFile.Open(database);
                if (!file.HasJournal)
                    throw NoJournal(database, file.Tables);
                var result = read(file);
                // A host opened the file while it was read as immutable: read again, with the host's WAL.
                if (file.IsCurrent)
                    return result;
            }
        }
        catch (NotSupportedException)
        {
            await using var host = CliHost.Create(database);
            return await throughHost(host.System);
        }
    }

    public static Task<int> StatusAsync(string workflowId, StoreOptions store, bool json, CancellationToken cancellationToken) =>
        WithHistoryAsync("status", workflowId, store, (status, _) =>
        {
            if (json)
                CliJson.Print(StatusView.From(status));
            else
                Console.WriteLine(StatusLine(status));
        }, cancellationToken);

    public static Task<int> HistoryAsync(string workflowId, StoreOptions store, bool json, CancellationToken cancellationToken) =>
        WithHistoryAsync("history", workflowId, store, (status, waits) =>
        {
            if (json)
            {
                CliJson.Print(HistoryView.From(status, waits));
                return;
            }
            Console.WriteLine(StatusLine(status));
            // Steps, and the durable waits between them (timers, signal waits, child waits), in key order: every key shows.
            var stepRows = status.Steps.Select(s => (Key: s.Key, Rows: s.Failures
                .Where(f => s.Status != StepStatus.Failed || f.Attempt != s.Attempts)
                .Select(f => new[] { "", "", $"attempt {f.Attempt}", "", Time(f.StartedAt), AttemptEnd(f) is { } end ? Time(end) : "-", f.Error })
                .Prepend(
                [
                    s.Key, s.StepId, StepStatusName(s.Status), s.Attempts.ToString(CultureInfo.InvariantCulture),
                    Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-", s.ResultJson ?? s.Error ?? "-",
                ])));
            var waitRows = waits.Select(w => (Key: w.Key, Rows: (IEnumerable<string[]>)
            [
                [w.Key, WaitName(w), WaitStatusName(w), "-", Time(w.StartedAt), w.EndedAt is { } end ? Time(end) : "-", WaitOutcome(w)],
            ]));
            var rows = stepRows.Concat(waitRows)
                .Select(r => (Sequence: StepKeys.Sequence(r.Key), r.Rows))
                .OrderBy(r => r.Sequence, StepKeys.SequenceComparer)
                .SelectMany(r => r.Rows);
            PrintTable(["KEY", "STEP", "STATUS", "ATTEMPTS", "STARTED", "ENDED", "RESULT / ERROR"], rows);
        }, cancellationToken);

    /// <summary>A wait's row name: <c>timer</c>, <c>signal 'name'</c> or <c>child 'id'</c>.</summary>
    private static string WaitName(WaitRecord w) =>
        w.SignalName is null ? "timer" : w.ChildId is { } child ? $"child '{child}'" : $"signal '{w.SignalName}'";

    /// <summary>WAITING until it ends; then FIRED (a timer), RECEIVED (a signal), ENDED (a child) or TIMED_OUT.</summary>
    private static string WaitStatusName(WaitRecord w) => w switch
    {
        { EndedAt: null } => "WAITING",
        { SignalName: null } => "FIRED",
        { TimedOut: true } => "TIMED_OUT",
        { ChildId: not null } => "ENDED",
        _ => "RECEIVED",
    };

    /// <summary>A wait's result column: what it received, or until when it waits.</summary>
    private static string WaitOutcome(WaitRecord w) =>
        w.EndedAt is not null && !w.TimedOut && w.SignalName is not null ? w.PayloadJson ?? "-"
        : w.DueAt is { } due ? $"until {Time(due)}"
        : "-";

    /// <summary>The statuses <c>list --status</c> takes, every one there is, for its help: <c>running, completed, failed or cancelled</c>.</summary>
    public static string ListStatuses()
    {
        var names = Enum.GetValues<WorkflowRunStatus>().Select(WorkflowIndex.StatusText).ToArray();
        return $"{string.Join(", ", names[..^1])} or {names[^1]}";
    }

    /// <summary>One page of workflows, newest first; the cursor of the next page ends it (on stderr with <c>--json</c>).</summary>
    public static Task<int> ListAsync(
        StoreOptions store, bool json, int limit, string? statusText, string? type, string? prefix, string? after, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            WorkflowRunStatus? status = null;
            if (statusText is not null)
            {
                if (!WorkflowIndex.TryParseStatus(statusText, out var parsed))
                    throw new UsageException(
                        $"unknown status '{statusText}' (expected {string.Join(", ", Enum.GetValues<WorkflowRunStatus>().Select(WorkflowIndex.StatusText))})");
                status = parsed;
            }
            var query = new WorkflowQuery { Status = status, Type = type, IdPrefix = prefix, Limit = limit, After = after };
            try
            {
                JournalReader.Validate(query);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw new UsageException($"--limit must be from 1 to {WorkflowQuery.MaxLimit}, not {limit}");
            }
            catch (ArgumentException)
            {
                throw new UsageException($"--after '{after}' is not a cursor printed by list");
            }

            var cluster = store.Cluster("list");
            var page = new WorkflowPage([], null);
            IReadOnlyDictionary<string, string> results = new Dictionary<string, string>();
            IReadOnlyDictionary<string, string> waits = new Dictionary<string, string>();
            if (cluster is not null)
            {
                await using var host = await ClusterCliHost.OpenReaderAsync(cluster);
                (page, results, waits) = await NoJournalAsEmptyAsync(() => ListThroughHostAsync(host.System, query, json, cancellationToken), (page, results, waits));
            }
            else
            {
                var path = Path.GetFullPath(store.Database);
                SqliteDatabase.EnsureNotFolder(path);
                // A database not created yet lists no workflows; one whose folder does not exist is a wrong --db, as start says.
                if (!File.Exists(path) && Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
                    throw new UsageException($"database '{path}' does not exist: there is no folder '{folder}'");
                if (File.Exists(path))
                {
                    (page, results, waits) = await ReadDatabaseAsync(path, workflowId: null, file =>
                    {
                        var read = file.Page(query) ?? throw new NotSupportedException("The database has no workflow index yet.");
                        if (!json)
                            return (read, results, waits);
                        // The index keeps when a wait is due, not what it waits for: each running workflow's journal says
                        // it, as for `status` (one indexed read per running workflow of the page).
                        var running = new Dictionary<string, string>(StringComparer.Ordinal);
                        foreach (var w in read.Items.Where(w => w.Status == WorkflowRunStatus.Running))
                        {
                            if (file.Read(w.WorkflowId)?.WaitingFor() is { } waitingFor)
                                running[w.WorkflowId] = waitingFor;
                        }
                        return (read, file.Results(read.Items.Where(w => w.Status == WorkflowRunStatus.Completed).Select(w => w.WorkflowId)), running);
                    }, system => ListThroughHostAsync(system, query, json, cancellationToken));
                }
            }

            if (json)
                CliJson.Print(page.Items.Select(w => StatusView.From(w, results.GetValueOrDefault(w.WorkflowId), waits.GetValueOrDefault(w.WorkflowId))));
            else if (page.Items.Count == 0)
                Console.WriteLine(after is null ? "no workflows" : "no more workflows");
            else
                PrintTable(["WORKFLOW", "TYPE", "STATUS", "STEPS", "STARTED", "ENDED"], page.Items.Select(s => new[]
                {
                    s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.StepCount.ToString(CultureInfo.InvariantCulture),
                    Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-",
                }));
            if (page.NextCursor is { } cursor)
                (json ? Console.Error : Console.Out).WriteLine($"next page: --after {cursor}");
            return ExitCodes.Completed;
        });

    /// <summary><c>list</c> through an ActorSystem: on a cluster, or on a SQLite file that needs a host (see <see cref="ReadDatabaseAsync"/>).</summary>
    private static async Task<(WorkflowPage, IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string>)> ListThroughHostAsync(
        ActorSystem system, WorkflowQuery query, bool json, CancellationToken cancellationToken)
    {
        var page = await DurableWorkflows.ListAsync(system, query, cancellationToken);
        var waits = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!json)
            return (page, new Dictionary<string, string>(), waits);
        var results = await JournalReader.GetResultsAsync(
            system, page.Items.Where(w => w.Status == WorkflowRunStatus.Completed).Select(w => w.WorkflowId), cancellationToken);
        foreach (var running in page.Items.Where(w => w.Status == WorkflowRunStatus.Running))
        {
            if ((await DurableWorkflows.GetStatusAsync(system, running.WorkflowId, cancellationToken))?.WaitingFor is { } waitingFor)
                waits[running.WorkflowId] = waitingFor;
        }
        return (page, results, waits);
    }

    private static Task<int> WithHistoryAsync(
        string command, string workflowId, StoreOptions store, Action<WorkflowStatus, IReadOnlyList<WaitRecord>> print, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            (WorkflowStatus Status, IReadOnlyList<WaitRecord> Waits)? history;
            string where;
            if (store.Cluster(command) is { } cluster)
            {
                await using var host = await ClusterCliHost.OpenReaderAsync(cluster);
                history = await NoJournalAsEmptyAsync(() => JournalReader.GetHistoryAsync(host.System, workflowId, cancellationToken), null);
                where = cluster.Description;
            }
            else
            {
                var database = Path.GetFullPath(store.Database);
                history = await ReadDatabaseAsync(database, workflowId,
                    file => file.Read(workflowId) is { } journal ? (journal.ToStatus(workflowId), journal.Waits()) : ((WorkflowStatus, IReadOnlyList<WaitRecord>)?)null,
                    system => JournalReader.GetHistoryAsync(system, workflowId, cancellationToken));
                where = Store(database);
            }
            var (status, waits) = history ?? throw new UsageException($"unknown workflow '{workflowId}' in {where}");
            print(status, waits);
            return ExitCodes.Completed;
        });

    /// <summary>Checks the type and input before anything touches the disk; returns the start command of each id.</summary>
    private static Func<string, IWorkflowCommand> StartCommand(WorkflowRegistry registry, string type, string? input)
    {
        if (!registry.TryGet(type, out var definition))
            throw new UsageException($"unknown workflow type '{type}' (registered: {string.Join(", ", registry.WorkflowTypes)})");
        var json = input ?? SampleWorkflows.DefaultInput(type, registry.JsonOptions) ?? "null";
        if (input is not null)
        {
            try
            {
                using var _ = JsonDocument.Parse(input);
            }
            catch (JsonException e)
            {
                throw new UsageException($"--input is not valid JSON: {e.Message}");
            }
        }
        if (definition.ValidateInput(json, registry.JsonOptions) is { } error)
            throw new UsageException($"--input does not fit workflow type '{type}': {error}");
        return id => new StartWorkflow(id, type, json);
    }

    internal static async Task<int> GuardAsync(Func<Task<int>> command)
    {
        try
        {
            return await command();
        }
        catch (Exception e) when (e is UsageException or DatabaseUnavailableException or ConfigurationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadUsage;
        }
    }

    private static string StatusLine(WorkflowStatus s) =>
        $"workflow {s.WorkflowId} ({s.WorkflowType}) {WorkflowStatusName(s.Status)}, {s.Steps.Count} steps, started {Time(s.StartedAt)}" +
        (s.EndedAt is { } end ? $", ended {Time(end)}" : "") +
        (s.Status == WorkflowRunStatus.Completed ? $": {s.ResultJson}" : s.Status is WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled ? $": {s.Error}" : "") +
        (s.WaitingFor is { } waiting ? $"; {waiting}" : "");

    internal static string WorkflowStatusName(WorkflowRunStatus status) => status switch
    {
        WorkflowRunStatus.Running => "RUNNING",
        WorkflowRunStatus.Completed => "COMPLETED",
        WorkflowRunStatus.Cancelled => "CANCELLED",
        _ => "FAILED",
    };

    internal static string StepStatusName(StepStatus status) => status switch
    {
        StepStatus.InProgress => "IN_PROGRESS",
        StepStatus.Completed => "COMPLETED",
        _ => "FAILED",
    };

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void PrintTable(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        foreach (var row in all)
            Console.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))));
    }

    // The JSON shapes (README, "JSON output"): status and list print StatusView; history prints the same fields
    // and the steps.

    private static DateTimeOffset? AttemptEnd(StepFailure f) => WorkflowJournal.IsStale(f.Error) ? null : f.At;

    private sealed record StatusView(
        string WorkflowId, string WorkflowType, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
        int StepCount, string? WaitingFor)
    {
        public static StatusView From(WorkflowStatus s) =>
            new(s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.StartedAt, s.EndedAt, Parse(s.ResultJson), s.Error, s.Steps.Count, s.WaitingFor);

        /// <summary>A row of the workflow index, with the result and the wait that <c>list --json</c> reads from the journal.</summary>
        public static StatusView From(WorkflowSummary s, string? resultJson, string? waitingFor) =>
            new(s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.StartedAt, s.EndedAt, Parse(resultJson), s.Error, s.StepCount, waitingFor);
    }

    private sealed record HistoryView(
        string WorkflowId, string WorkflowType, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
        int StepCount, string? WaitingFor, IReadOnlyList<StepView> Steps, IReadOnlyList<WaitView> Waits)
    {
        public static HistoryView From(WorkflowStatus s, IReadOnlyList<WaitRecord> waits)
        {
            var w = StatusView.From(s);
            return new(w.WorkflowId, w.WorkflowType, w.Status, w.StartedAt, w.EndedAt, w.Result, w.Error, w.StepCount, w.WaitingFor,
                s.Steps.Select(StepView.From).ToList(), waits.Select(WaitView.From).ToList());
        }
    }

    /// <summary>
    /// A durable wait: <c>kind</c> is <c>timer</c>, <c>signal</c> or <c>child</c>; <c>name</c> the signal's name or the
    /// child's id (null for a timer); <c>dueAt</c> when the timer fires or the wait times out; <c>payload</c> what it received.
    /// </summary>
    private sealed record WaitView(
        string Key, string Kind, string? Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? DueAt, DateTimeOffset? EndedAt, JsonNode? Payload)
    {
        public static WaitView From(WaitRecord w) => new(
            w.Key, w.SignalName is null ? "timer" : w.ChildId is null ? "signal" : "child", w.ChildId ?? w.SignalName, WaitStatusName(w),
            w.StartedAt, w.DueAt, w.EndedAt, Parse(w.PayloadJson));
    }

    private sealed record StepView(
        string Key, string StepId, string Status, int Attempts, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
        IReadOnlyList<AttemptView> Failures)
    {
        public static StepView From(StepRecord x) => new(
            x.Key, x.StepId, StepStatusName(x.Status), x.Attempts, x.StartedAt, x.EndedAt, Parse(x.ResultJson), x.Error,
            x.Failures.Select(f => new AttemptView(f.Attempt, f.StartedAt, AttemptEnd(f), f.At, f.Error)).ToList());
    }

    /// <summary>A failed attempt: <c>endedAt</c> is null for a zombie left by a crash (it ended at an unknown time); <c>recordedAt</c> is when its failure was written.</summary>
    private sealed record AttemptView(int Attempt, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, DateTimeOffset RecordedAt, string Error);

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);
}
