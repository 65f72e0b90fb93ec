namespace Durable.Actors;

/// <summary>A durable workflow: a plain async method whose side effects run in steps.</summary>
/// <typeparam name="TInput">The workflow's input, serialized with System.Text.Json.</typeparam>
/// <typeparam name="TResult">The workflow's result, serialized with System.Text.Json.</typeparam>
/// <remarks>
/// The method runs again from the top on every resume: completed steps return their recorded result
/// instead of running, so code outside steps must be deterministic (same steps, same order, same ids).
/// </remarks>
public interface IWorkflow<TInput, TResult>
{
    /// <summary>Runs the workflow.</summary>
    /// <param name="context">Runs steps and gives the workflow's id and cancellation token.</param>
    /// <param name="input">The input the workflow was started with.</param>
    Task<TResult> RunAsync(IWorkflowContext context, TInput input);
}
