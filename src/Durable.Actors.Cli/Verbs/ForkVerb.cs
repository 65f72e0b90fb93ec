using System.CommandLine;
using System.Text.Json;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>fork</c>: starts a new workflow from an ended one (what it recorded before <c>--from</c> replays, the rest runs
/// with the code deployed now) and runs it to its end; without <c>--from</c>, a restart from the top under a new id.
/// </summary>
internal static class ForkVerb
{
    public static Command Create(CliOptions o)
    {
        var id = CliOptions.WorkflowId();
        var from = new Option<string?>("--from")
        {
            Description = "The key of the step (or wait) to run again with all that follows, as history shows it (wf:4), or its sequence (4, 3.1); default: from the top",
        };
        var newId = new Option<string?>("--new-id") { Description = "The new workflow's id (default: <workflowId>-fork-<8 hex digits>)" };
        var input = new Option<string?>("--input") { Description = "The new workflow's input as JSON (default: the source's input)" };
        var timeout = new Option<string?>("--timeout") { Description = "How long the new workflow may take, e.g. 30m, 2h; then it is cancelled as timed out" };
        var command = new Command("fork", "Start a new workflow from an ended one: its records before --from replay, the rest runs (without --from: a restart)")
        {
            id, from, newId, input, timeout, o.Db, o.Effects, o.BusyTimeout,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var sourceId = r.GetValue(id)!;
            var inputJson = r.GetValue(input);
            if (inputJson is not null)
            {
                try
                {
                    using var _ = JsonDocument.Parse(inputJson);
                }
                catch (JsonException e)
                {
                    throw new UsageException($"--input is not valid JSON: {e.Message}");
                }
            }
            var limit = Durations.ParseOptional(r.GetValue(timeout), "--timeout");
            if (limit <= TimeSpan.Zero)
                throw new UsageException($"--timeout must be more than zero, not '{r.GetValue(timeout)}'");
            var fromKey = r.GetValue(from);
            var target = Target.Of(o.Sends(r, o.Effects, o.BusyTimeout), "fork", DatabaseUse.Runs(sourceId));
            var registry = target.Registry(r.GetValue(o.Effects));
            await using var session = await target.OpenAsync(registry, new EngineOptions(BusyTimeout: Durations.ParseOptional(r.GetValue(o.BusyTimeout), "--busy-timeout")), ct);
            var source = await session.StatusAsync(sourceId, ct)
                ?? throw new UsageException($"unknown workflow '{sourceId}' in {session.Description}");
            if (inputJson is not null && registry.TryGet(source.WorkflowType, out var definition)
                && definition.ValidateInput(inputJson, registry.JsonOptions) is { } inputError)
                throw new UsageException($"--input does not fit workflow type '{source.WorkflowType}': {inputError}");
            var forkId = r.GetValue(newId) ?? ForkOptions.NewId(sourceId);
            await session.BeginAsync(new ConsoleObserver(crashAfter: null), ct);
            Console.WriteLine($"forking {sourceId} {(fromKey is null ? "from the top" : $"from {fromKey}")} as {forkId}");
            return await WorkflowRuns.RunAllAsync(session, [new ForkWorkflow(forkId, sourceId, fromKey, inputJson) { Timeout = limit }], ct);
        }));
        return command;
    }
}
