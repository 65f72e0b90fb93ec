using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// Runs one branch of a parallel block, outside its message loop. When the branch throws, the actor crashes with
/// <see cref="BranchFailedException"/>, so the workflow actor's supervisor strategy handles it and fails the branch.
/// </summary>
internal sealed class BranchActor : UntypedActor
{
    private readonly ParallelBranch _branch;
    private readonly Func<IWorkflowContext, Task<object?>> _body;

    public BranchActor(ParallelBranch branch, Func<IWorkflowContext, Task<object?>> body)
    {
        _branch = branch;
        _body = body;
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case BranchReturned returned:
                _branch.Completion.TrySetResult(returned.Value);
                Context.Stop(Self);
                break;
            case BranchThrew threw:
                throw new BranchFailedException(_branch.Key, threw.Error);
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PreStart()
    {
        var context = _branch.Context;
        var body = _body;
        Task.Run(async () =>
        {
            try
            {
                var value = await body(context).ConfigureAwait(false);
                await context.FlushAsync().ConfigureAwait(false);
                return (object)new BranchReturned(value);
            }
            catch (Exception e)
            {
                // Steps the branch completed before it threw stay recorded.
                try
                {
                    await context.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The workflow actor is gone; the branch's error is what matters.
                }
                return new BranchThrew(e);
            }
        }).PipeTo(Self);
    }

    private sealed record BranchReturned(object? Value);

    private sealed record BranchThrew(Exception Error);
}

/// <summary>The crash of a branch actor: carries the branch's key and what the branch threw.</summary>
internal sealed class BranchFailedException(string branchKey, Exception inner)
    : Exception($"Branch {branchKey} failed: {inner.Message}", inner)
{
    public string BranchKey { get; } = branchKey;
}
