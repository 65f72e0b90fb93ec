namespace Durable.Actors.Tests.TestSupport;

/// <summary>A workflow written inline in a test.</summary>
public sealed class FuncWorkflow<TInput, TResult>(Func<IWorkflowContext, TInput, Task<TResult>> run) : IWorkflow<TInput, TResult>
{
    public Task<TResult> RunAsync(IWorkflowContext context, TInput input) => run(context, input);
}

public static class RegistryExtensions
{
    public static WorkflowRegistry Add<TInput, TResult>(this WorkflowRegistry registry, string type, Func<IWorkflowContext, TInput, Task<TResult>> run) =>
        registry.Add(type, () => new FuncWorkflow<TInput, TResult>(run));
}
