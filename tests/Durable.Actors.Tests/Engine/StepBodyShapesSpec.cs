using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A step body written as an async lambda without a token (<c>async () => ...</c>) is a step that ends when the body's
/// task ends, with the task's result: not a step whose "result" is the task itself (its JSON read the task's
/// <c>Result</c>, blocking the run), nor an <c>async void</c> body whose step is recorded before it ran.
/// </summary>
public sealed class StepBodyShapesSpec(ITestOutputHelper output) : EngineSpec(output)
{
    [Fact]
    public async Task AsyncLambdaWithAResultAndNoToken_IsRecordedWithTheAwaitedResult()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        StartEngine(new WorkflowRegistry().Add<string, string>("greet", async (ctx, name) =>
        {
            var hello = await ctx.StepAsync("hello", async () =>
            {
                Interlocked.Increment(ref runs);
                await release.Task;
                return $"hello {name}";
            });
            return hello.ToUpperInvariant();
        }));
        var handle = await DurableWorkflows.Client(Sys).StartAsync<string, string>("greet", "a-1", "ada");

        await Polling.UntilAsync(() => Volatile.Read(ref runs) == 1, "the step body to start", RunTimeout);
        Assert.Equal(StepStatus.InProgress, Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "a-1"))!.Steps).Status);
        release.SetResult();

        Assert.Equal("HELLO ADA", await handle.GetResultAsync().WaitAsync(RunTimeout));
        var step = Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "a-1"))!.Steps);
        Assert.Equal((StepStatus.Completed, "\"hello ada\""), (step.Status, step.ResultJson));
    }

    [Fact]
    public async Task AsyncLambdaWithoutAResultOrToken_EndsWhenItsTaskEnds_AndItsExceptionIsAFailedStep()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        StartEngine(new WorkflowRegistry().Add<string, string>("notify", async (ctx, name) =>
        {
            await ctx.StepAsync("send", async () =>
            {
                Interlocked.Increment(ref started);
                await release.Task;
                throw new InvalidOperationException($"mail server refused {name}");
            }, RetryPolicy.None);
            return "sent";
        }));
        var handle = await DurableWorkflows.Client(Sys).StartAsync<string, string>("notify", "n-1", "ada");

        await Polling.UntilAsync(() => Volatile.Read(ref started) == 1, "the step body to start", RunTimeout);
        Assert.Equal(StepStatus.InProgress, Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "n-1"))!.Steps).Status);
        release.SetResult();

        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync().WaitAsync(RunTimeout));
        Assert.Contains("mail server refused ada", failed.Message, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Failed, Assert.Single((await DurableWorkflows.GetStatusAsync(Sys, "n-1"))!.Steps).Status);
    }
}
