using System.Text.Json;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Samples.Onboarding;

namespace Durable.Actors.Cli.Verbs;

/// <summary>What <c>start</c>, <c>resume</c> and <c>crash-after</c> were asked to do.</summary>
internal sealed record RunRequest(
    IReadOnlyList<string> WorkflowIds,
    StoreOptions Store,
    string? EffectsLog,
    string? StaleTimeout,
    string? BusyTimeout,
    (string Type, string? Input)? Start,
    int? CrashAfter,
    bool AllowForeignDatabase = false,
    string? Timeout = null);

/// <summary>Running workflows to their end (or their next wait) and printing each outcome: what the verbs that run share.</summary>
internal static class WorkflowRuns
{
    /// <summary>
    /// <c>start</c>, <c>resume</c> and <c>crash-after</c>: checks the input and the ids against the journal, then runs
    /// every workflow at once (on a cluster, the nodes run them: this process joins, sends and leaves) and prints each
    /// outcome.
    /// </summary>
    public static Task<int> RunAsync(RunRequest request, CancellationToken cancellationToken) => Guard.RunAsync(async () =>
    {
        var target = Target.Of(request.Store, request.Start is null ? "resume" : "start", request.Start is null
            ? DatabaseUse.Runs(request.WorkflowIds[0])
            : DatabaseUse.Writes(request.WorkflowIds[0], request.AllowForeignDatabase));
        var staleTimeout = Durations.ParseOptional(request.StaleTimeout, "--stale-timeout");
        var busyTimeout = Durations.ParseOptional(request.BusyTimeout, "--busy-timeout");
        var timeout = Durations.ParseOptional(request.Timeout, "--timeout");
        if (timeout <= TimeSpan.Zero)
            throw new UsageException($"--timeout must be more than zero, not '{request.Timeout}'");
        if (request.CrashAfter is < 1)
            throw new UsageException($"N must be 1 or more, not {request.CrashAfter}");
        if (request.WorkflowIds.Distinct().Count() != request.WorkflowIds.Count)
            throw new UsageException("a workflow id is given twice");
        // An option the verb does not have would otherwise be taken as more ids (start x --stale-timeout 1s: three workflows).
        if (request.WorkflowIds.FirstOrDefault(id => id.StartsWith('-')) is { } option)
            throw new UsageException($"unknown option '{option}' (a workflow id cannot start with '-')");

        var registry = target.Registry(request.EffectsLog);
        var command = request.Start is var (type, input)
            ? StartCommand(registry, type, input, timeout)
            : id => new ResumeWorkflow(id);

        await using var session = await target.OpenAsync(registry, new EngineOptions(staleTimeout, busyTimeout, request.AllowForeignDatabase), cancellationToken);
        if (request.Start is null)
        {
            foreach (var id in request.WorkflowIds)
            {
                if (await session.StatusAsync(id, cancellationToken) is null)
                    throw new UsageException($"unknown workflow '{id}' in {session.Description}");
            }
        }
        var observer = new ConsoleObserver(request.CrashAfter);
        await session.BeginAsync(observer, cancellationToken);
        if (request.Start is var (requestedType, requestedInput))
            await session.WarnWhenRecordedStartDiffersAsync(request.WorkflowIds, requestedType, requestedInput, cancellationToken);
        var exitCode = await RunAllAsync(session, request.WorkflowIds.Select(command), cancellationToken);
        observer.ReportCrashNotReached();
        return exitCode;
    });

    /// <summary>
    /// <c>signal</c>, <c>cancel</c>, <c>pause</c> and <c>unpause</c>: sends <paramref name="command"/> (durable before
    /// <paramref name="acknowledged"/> says so), then, when <paramref name="runOn"/>, runs a workflow that was running
    /// (or paused) on until it ends or waits. A failed one is left for <c>resume</c>.
    /// </summary>
    public static async Task<int> SendThenRunOnAsync(
        string verb, string workflowId, StoreOptions store, string? effectsLog, IWorkflowCommand command, Func<object, string?> acknowledged,
        CancellationToken cancellationToken, bool runOn = true)
    {
        var target = Target.Of(store, verb, DatabaseUse.Runs(workflowId));
        await using var session = await target.OpenAsync(target.Registry(effectsLog), EngineOptions.Default, cancellationToken);
        var before = await session.StatusAsync(workflowId, cancellationToken)
            ?? throw new UsageException($"unknown workflow '{workflowId}' in {session.Description}");
        if (session.Resends)
        {
            // The client sends again what is not answered in time: a signal or cancel carries a delivery id, so a resend
            // is delivered once and answered as the first was.
            command = command switch
            {
                SignalWorkflow { DeliveryId: null } signal => signal with { DeliveryId = Guid.NewGuid().ToString("N") },
                CancelWorkflow { DeliveryId: null } cancel => cancel with { DeliveryId = Guid.NewGuid().ToString("N") },
                _ => command,
            };
        }
        await session.BeginAsync(new ConsoleObserver(crashAfter: null), cancellationToken);

        var reply = await session.AskAsync(command, cancellationToken);
        if (reply is WorkflowNotFound)
            throw new UsageException($"unknown workflow '{workflowId}' in {session.Description}");
        Console.WriteLine(acknowledged(reply) ?? throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."));
        // A running workflow runs on (the engine started its run already: this joins it, or reads how it ended).
        if (!runOn || !before.Status.IsActive())
            return ExitCodes.Completed;
        return await RunAllAsync(session, [new ResumeWorkflow(workflowId)], cancellationToken);
    }

    /// <summary>Sends every command at once, prints each outcome; 0 when all completed, else the highest exit code of an outcome.</summary>
    public static async Task<int> RunAllAsync(Session session, IEnumerable<IWorkflowCommand> commands, CancellationToken cancellationToken)
    {
        var replies = await Task.WhenAll(commands.Select(async c => (Command: c, Reply: await session.AskAsync(c, cancellationToken))));
        var exitCode = ExitCodes.Completed;
        foreach (var (command, reply) in replies)
        {
            if (Text.Outcome(reply) is var (line, code))
            {
                Console.WriteLine(line);
                exitCode = Math.Max(exitCode, code);
                continue;
            }
            throw reply switch
            {
                WorkflowRejected rejected => new UsageException(rejected.Describe($"workflow '{rejected.WorkflowId}' was not started")),
                WorkflowNotFound => new UsageException($"unknown workflow '{command.WorkflowId}' in {session.Description}"),
                _ => new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."),
            };
        }
        return exitCode;
    }

    /// <summary>Checks the type and input before anything touches the disk; returns the start command of each id.</summary>
    private static Func<string, IWorkflowCommand> StartCommand(WorkflowRegistry registry, string type, string? input, TimeSpan? timeout)
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
        return id => new StartWorkflow(id, type, json) { Timeout = timeout };
    }
}
