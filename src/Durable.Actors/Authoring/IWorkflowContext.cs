namespace Durable.Actors;

/// <summary>What a running workflow uses to run durable steps.</summary>
public interface IWorkflowContext
{
    /// <summary>The id of the running workflow.</summary>
    string WorkflowId { get; }

    /// <summary>Cancelled when the workflow's actor stops; pass it to the I/O a workflow does outside steps.</summary>
    CancellationToken CancellationToken { get; }

    /// <summary>Runs <paramref name="body"/> as a durable step, or returns its recorded result if it already completed.</summary>
    /// <typeparam name="T">The step's result; it must round-trip through System.Text.Json.</typeparam>
    /// <param name="stepId">A name for the step, kept with its record; the same code must ask for the same id in the same place.</param>
    /// <param name="body">The side effect. It gets a token cancelled when the workflow stops.</param>
    /// <returns>The result, as read back from its JSON record (the same value a later replay returns).</returns>
    /// <remarks>
    /// The step's key is <c>workflowId:sequence</c>, the sequence counting steps in call order. Before the body runs an
    /// IN_PROGRESS record is made durable; after it, COMPLETED with the result or FAILED with the error, which is then
    /// rethrown. A step that completed never runs again; a failed one runs again on the next resume.
    /// Throws <see cref="WorkflowNondeterminismException"/> when the journal holds another step id at this key, and
    /// <see cref="StepResultNotSerializableException"/> when the result does not round-trip through JSON.
    /// </remarks>
    Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body);
}
