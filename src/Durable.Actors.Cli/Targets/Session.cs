using System.Text.Json.Nodes;
using Akka.Actor;
using Durable.Actors.Cli.Hosting;
using Durable.Actors.Inspection;

namespace Durable.Actors.Cli.Targets;

/// <summary>
/// A target opened by a command that sends to workflows: an ActorSystem that reads through the engine, and, once
/// <see cref="BeginAsync"/> started what runs the workflows, sends to them through the engine's client.
/// </summary>
internal abstract class Session(ActorSystem system, string description) : IAsyncDisposable
{
    public ActorSystem System { get; } = system;

    /// <summary>How messages name the target (see <see cref="Target.Description"/>).</summary>
    public string Description { get; } = description;

    /// <summary>
    /// Whether an unanswered request may be sent again (on a cluster): then a signal or cancel carries a delivery id, so
    /// that a resend is delivered once and answered as the first was.
    /// </summary>
    public abstract bool Resends { get; }

    /// <summary>Starts what runs the workflows: the engine in this process, or this process's membership of the cluster.</summary>
    public abstract Task BeginAsync(IWorkflowObserver observer, CancellationToken cancellationToken);

    /// <summary>A read through the engine; <paramref name="empty"/> where the store has no journal yet.</summary>
    protected abstract Task<T> ReadAsync<T>(Func<Task<T>> read, T empty);

    /// <summary>The workflow's status, or null for an unknown id.</summary>
    public Task<WorkflowStatus?> StatusAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadAsync(() => DurableWorkflows.GetStatusAsync(System, workflowId, cancellationToken), null);

    /// <summary>Sends a command through the engine's client and returns its reply (with resends on a cluster).</summary>
    public Task<object> AskAsync(IWorkflowCommand command, CancellationToken cancellationToken) =>
        WorkflowClient.Of(System).AskAsync(command, cancellationToken);

    /// <summary>
    /// Starting an existing id resumes it with its recorded type and input (idempotent start): when <c>--type</c> or an
    /// explicit <c>--input</c> differs from the recorded one, says so on stderr, once per id, and goes on.
    /// </summary>
    public async Task WarnWhenRecordedStartDiffersAsync(IEnumerable<string> workflowIds, string type, string? input, CancellationToken cancellationToken)
    {
        foreach (var id in workflowIds)
        {
            if (await ReadAsync(() => DurableWorkflows.GetDetailAsync(System, id, cancellationToken), null) is not { } recorded)
                continue;
            var (recordedType, recordedInput) = (recorded.Status.WorkflowType, recorded.InputJson);
            var typeDiffers = recordedType != type;
            var inputDiffers = input is not null && !JsonNode.DeepEquals(JsonNode.Parse(input), JsonNode.Parse(recordedInput));
            if (typeDiffers || inputDiffers)
                Console.Error.WriteLine(
                    $"warning: workflow '{id}' already exists with type '{recordedType}' and input {recordedInput}; " +
                    $"it resumes with those, not with the {(typeDiffers && inputDiffers ? "--type and --input" : typeDiffers ? $"--type '{type}'" : "--input")} given");
        }
    }

    public abstract ValueTask DisposeAsync();
}
