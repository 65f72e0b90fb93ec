using System.Text.Json;
using Durable.Actors.Runtime;

namespace Durable.Actors;

/// <summary>The workflow types a host can run, by name, and the JSON options for their inputs, results and step results.</summary>
public sealed class WorkflowRegistry
{
    private readonly Dictionary<string, IWorkflowDefinition> _definitions = new(StringComparer.Ordinal);

    /// <summary>Options for every JSON value the engine records. Defaults to <see cref="JsonSerializerDefaults.Web"/>.</summary>
    public JsonSerializerOptions JsonOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>The names of the registered workflow types.</summary>
    public IReadOnlyCollection<string> WorkflowTypes => _definitions.Keys;

    /// <summary>Registers a workflow type under <paramref name="workflowType"/>.</summary>
    /// <param name="workflowType">The name used by <see cref="StartWorkflow"/> and recorded in the journal.</param>
    /// <param name="factory">Makes a workflow instance for each run.</param>
    /// <returns>This registry.</returns>
    public WorkflowRegistry Add<TInput, TResult>(string workflowType, Func<IWorkflow<TInput, TResult>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        ArgumentNullException.ThrowIfNull(factory);
        return Add(workflowType, () => new WorkflowInstance<TInput, TResult>(factory(), null));
    }

    /// <summary>Registers a workflow type whose instances come with a scope disposed when their run ends (dependency injection).</summary>
    internal WorkflowRegistry Add<TInput, TResult>(string workflowType, Func<WorkflowInstance<TInput, TResult>> create)
    {
        if (!_definitions.TryAdd(workflowType, new WorkflowDefinition<TInput, TResult>(create)))
            throw new ArgumentException($"A workflow type named '{workflowType}' is already registered.", nameof(workflowType));
        return this;
    }

    private readonly Dictionary<string, QueueOptions> _queues = new(StringComparer.Ordinal);

    /// <summary>Declares a queue (HOCON's <c>durable-actors.queues.&lt;name&gt;</c> wins over it).</summary>
    /// <returns>This registry.</returns>
    /// <exception cref="ArgumentException">A limit is not valid, or a queue has this name already.</exception>
    public WorkflowRegistry AddQueue(QueueOptions queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (!_queues.TryAdd(queue.Name, queue.Checked()))
            throw new ArgumentException($"A queue named '{queue.Name}' is already declared.", nameof(queue));
        return this;
    }

    /// <summary>The queues declared in code, by name.</summary>
    internal IReadOnlyDictionary<string, QueueOptions> Queues => _queues;

    internal bool TryGet(string workflowType, out IWorkflowDefinition definition) =>
        _definitions.TryGetValue(workflowType, out definition!);
}
