using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Storage;

namespace Durable.Actors.Cli;

/// <summary>What <c>start</c>, <c>resume</c> and <c>crash-after</c> were asked to do.</summary>
internal sealed record RunRequest(
    string WorkflowId,
    string Database,
    string? EffectsLog,
    string? StaleTimeout,
    (string Type, string? Input)? Start,
    int? CrashAfter);

internal static class Commands
{
    private static readonly JsonSerializerOptions Pretty = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static Task<int> RunAsync(RunRequest request, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var database = Path.GetFullPath(request.Database);
        SqliteDatabase.EnsureSqliteOrAbsent(database);
        TimeSpan? staleTimeout = request.StaleTimeout is { } text ? Durations.Parse(text, "--stale-timeout") : null;
        if (request.CrashAfter is < 1)
            throw new UsageException($"N must be 1 or more, not {request.CrashAfter}");

        var effects = new EffectsLog(request.EffectsLog ?? Path.Combine(Path.GetDirectoryName(database)!, "effects.log"));
        var registry = OnboardingWorkflow.Register(new WorkflowRegistry(), effects);

        object command;
        if (request.Start is var (type, input))
        {
            var inputJson = ValidateStart(registry, type, input);
            command = new StartWorkflow(request.WorkflowId, type, inputJson);
        }
        else
        {
            if (!File.Exists(database))
                throw new UsageException($"unknown workflow '{request.WorkflowId}': database '{database}' does not exist");
            command = new ResumeWorkflow(request.WorkflowId);
        }

        await using var host = CliHost.Create(database, staleTimeout);
        var observer = new ConsoleObserver(request.CrashAfter);
        var coordinator = DurableWorkflows.Start(host.System, registry, observer);
        var reply = await coordinator.Ask<object>(command, cancellationToken);
        observer.ReportCrashNotReached();
        switch (reply)
        {
            case WorkflowCompleted completed:
                Console.WriteLine($"workflow {completed.WorkflowId} completed: {completed.ResultJson}");
                return ExitCodes.Completed;
            case WorkflowFailed failed:
                Console.WriteLine($"workflow {failed.WorkflowId} failed: {failed.Error}");
                return ExitCodes.Failed;
            case WorkflowRejected rejected:
                throw new UsageException($"workflow '{rejected.WorkflowId}' was not started: {rejected.Reason}");
            case WorkflowNotFound:
                throw new UsageException($"unknown workflow '{request.WorkflowId}' in database '{database}'");
            default:
                throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}.");
        }
    });

    public static Task<int> StatusAsync(string workflowId, string database, bool json, CancellationToken cancellationToken) =>
        WithStatusAsync(workflowId, database, cancellationToken, status =>
        {
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(StatusView.From(status), Pretty));
            else
                Console.WriteLine(StatusLine(status));
        });

    public static Task<int> HistoryAsync(string workflowId, string database, bool json, CancellationToken cancellationToken) =>
        WithStatusAsync(workflowId, database, cancellationToken, status =>
        {
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(HistoryView.From(status), Pretty));
                return;
            }
            Console.WriteLine(StatusLine(status));
            var rows = status.Steps.Select(s => new[]
            {
                s.Key, s.StepId, StepStatusName(s.Status), s.Attempts.ToString(CultureInfo.InvariantCulture),
                Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-", s.ResultJson ?? s.Error ?? "-",
            });
            PrintTable(["KEY", "STEP", "STATUS", "ATTEMPTS", "STARTED", "ENDED", "RESULT / ERROR"], rows);
        });

    public static Task<int> ListAsync(string database, bool json, CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var path = Path.GetFullPath(database);
        SqliteDatabase.EnsureSqliteOrAbsent(path);
        IReadOnlyList<WorkflowStatus> statuses = [];
        if (File.Exists(path))
        {
            await using var host = CliHost.Create(path, null);
            statuses = await DurableWorkflows.ListAsync(host.System, cancellationToken);
        }

        if (json)
            Console.WriteLine(JsonSerializer.Serialize(statuses.Select(StatusView.From), Pretty));
        else if (statuses.Count == 0)
            Console.WriteLine("no workflows");
        else
            PrintTable(["WORKFLOW", "TYPE", "STATUS", "STEPS", "STARTED", "ENDED"], statuses.Select(s => new[]
            {
                s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.Steps.Count.ToString(CultureInfo.InvariantCulture),
                Time(s.StartedAt), s.EndedAt is { } end ? Time(end) : "-",
            }));
        return ExitCodes.Completed;
    });

    private static Task<int> WithStatusAsync(string workflowId, string database, CancellationToken cancellationToken, Action<WorkflowStatus> print) =>
        GuardAsync(async () =>
        {
            var path = Path.GetFullPath(database);
            SqliteDatabase.EnsureSqliteOrAbsent(path);
            if (!File.Exists(path))
                throw new UsageException($"unknown workflow '{workflowId}': database '{path}' does not exist");
            await using var host = CliHost.Create(path, null);
            var status = await DurableWorkflows.GetStatusAsync(host.System, workflowId, cancellationToken)
                ?? throw new UsageException($"unknown workflow '{workflowId}' in database '{path}'");
            print(status);
            return ExitCodes.Completed;
        });

    /// <summary>Checks the type and input before anything touches the disk; returns the input JSON to start with.</summary>
    private static string ValidateStart(WorkflowRegistry registry, string type, string? input)
    {
        if (!registry.TryGet(type, out var definition))
            throw new UsageException($"unknown workflow type '{type}' (registered: {string.Join(", ", registry.WorkflowTypes)})");
        string json;
        if (input is null)
            json = type == OnboardingWorkflow.TypeName ? JsonSerializer.Serialize(NewHire.Default, registry.JsonOptions) : "null";
        else
        {
            try
            {
                using var _ = JsonDocument.Parse(input);
            }
            catch (JsonException e)
            {
                throw new UsageException($"--input is not valid JSON: {e.Message}");
            }
            json = input;
        }
        if (definition.ValidateInput(json, registry.JsonOptions) is { } error)
            throw new UsageException($"--input does not fit workflow type '{type}': {error}");
        return json;
    }

    private static async Task<int> GuardAsync(Func<Task<int>> command)
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
        (s.Status == WorkflowRunStatus.Completed ? $": {s.ResultJson}" : s.Status == WorkflowRunStatus.Failed ? $": {s.Error}" : "");

    internal static string WorkflowStatusName(WorkflowRunStatus status) => status switch
    {
        WorkflowRunStatus.Running => "RUNNING",
        WorkflowRunStatus.Completed => "COMPLETED",
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

    private sealed record StatusView(string WorkflowId, string WorkflowType, string Status, int Steps, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error)
    {
        public static StatusView From(WorkflowStatus s) =>
            new(s.WorkflowId, s.WorkflowType, WorkflowStatusName(s.Status), s.Steps.Count, s.StartedAt, s.EndedAt, Parse(s.ResultJson), s.Error);
    }

    private sealed record StepView(string Key, string StepId, string Status, int Attempts, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error);

    private sealed record HistoryView(StatusView Workflow, IReadOnlyList<StepView> Steps)
    {
        public static HistoryView From(WorkflowStatus s) => new(StatusView.From(s), s.Steps
            .Select(x => new StepView(x.Key, x.StepId, StepStatusName(x.Status), x.Attempts, x.StartedAt, x.EndedAt, Parse(x.ResultJson), x.Error))
            .ToList());
    }

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);
}
