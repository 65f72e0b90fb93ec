using Xunit;
using Verify = Durable.Actors.Analyzers.Tests.Verify;

namespace Durable.Actors.Analyzers.Tests;

/// <summary>The code fixes of DURABLE0001 and DURABLE0002: the context's recorded operations in place of the call.</summary>
public sealed class CodeFixSpec
{
    private static string Workflow(string body) => $$"""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext ctx, int input)
            {
        {{body}}
            }
        }
        """;

    [Fact]
    public Task DateTimeUtcNow_BecomesNowAsyncUtcDateTime() => Verify.CodeFixAsync(
        Workflow("""
                    var at = {|DURABLE0001:DateTime.UtcNow|};
                    return at.ToString();
            """),
        Workflow("""
                    var at = (await ctx.NowAsync()).UtcDateTime;
                    return at.ToString();
            """));

    [Fact]
    public Task LocalTimes_BecomeNowAsyncInLocalTime() => Verify.CodeFixAsync(
        Workflow("""
                    var now = {|DURABLE0001:DateTime.Now|};
                    var today = {|DURABLE0001:DateTime.Today|};
                    var local = {|DURABLE0001:DateTimeOffset.Now|};
                    return $"{now}{today}{local}";
            """),
        Workflow("""
                    var now = (await ctx.NowAsync()).LocalDateTime;
                    var today = (await ctx.NowAsync()).LocalDateTime.Date;
                    var local = (await ctx.NowAsync()).ToLocalTime();
                    return $"{now}{today}{local}";
            """));

    [Fact]
    public Task DateTimeOffsetUtcNow_BecomesNowAsync_InParenthesesWhereNeeded() => Verify.CodeFixAsync(
        Workflow("""
                    var at = {|DURABLE0001:DateTimeOffset.UtcNow|};
                    var due = {|DURABLE0001:DateTimeOffset.UtcNow|}.AddDays(1);
                    return $"{at}{due}";
            """),
        Workflow("""
                    var at = await ctx.NowAsync();
                    var due = (await ctx.NowAsync()).AddDays(1);
                    return $"{at}{due}";
            """));

    [Fact]
    public Task GuidNewGuid_BecomesNewGuidAsync() => Verify.CodeFixAsync(
        Workflow("""
                    var id = {|DURABLE0001:Guid.NewGuid()|};
                    return {|DURABLE0001:Guid.NewGuid()|}.ToString() + id;
            """),
        Workflow("""
                    var id = await ctx.NewGuidAsync();
                    return (await ctx.NewGuidAsync()).ToString() + id;
            """));

    [Fact]
    public Task SharedRandomNext_BecomesRandomAsync() => Verify.CodeFixAsync(
        Workflow("""
                    var die = {|DURABLE0001:Random.Shared.Next(1, 7)|};
                    var percent = {|DURABLE0001:Random.Shared.Next(100)|};
                    return (die + percent).ToString();
            """),
        Workflow("""
                    var die = await ctx.RandomAsync(1, 7);
                    var percent = await ctx.RandomAsync(0, 100);
                    return (die + percent).ToString();
            """));

    [Fact]
    public Task RandomLocalUsedForNext_BecomesRandomAsync() => Verify.CodeFixAsync(
        Workflow("""
                    var random = {|DURABLE0001:new Random()|};
                    var die = random.Next(1, 7);
                    return (die + random.Next(100)).ToString();
            """),
        Workflow("""
                    var die = await ctx.RandomAsync(1, 7);
                    return (die + await ctx.RandomAsync(0, 100)).ToString();
            """));

    [Fact]
    public Task RandomLocalUsedOtherwise_HasNoFix() => Verify.CodeFixAsync(
        Workflow("""
                    var random = {|DURABLE0001:new Random()|};
                    return random.NextDouble().ToString();
            """),
        Workflow("""
                    var random = {|DURABLE0001:new Random()|};
                    return random.NextDouble().ToString();
            """));

    [Fact]
    public Task TaskDelay_BecomesSleepAsync() => Verify.CodeFixAsync(
        Workflow("""
                    await {|DURABLE0002:Task.Delay(TimeSpan.FromSeconds(5))|};
                    await {|DURABLE0002:Task.Delay(500, ctx.CancellationToken)|};
                    return "";
            """),
        Workflow("""
                    await ctx.SleepAsync(TimeSpan.FromSeconds(5));
                    await ctx.SleepAsync(TimeSpan.FromMilliseconds(500));
                    return "";
            """));

    [Fact]
    public Task ThreadSleep_BecomesAwaitedSleepAsync() => Verify.CodeFixAsync(
        Workflow("""
                    {|DURABLE0002:Thread.Sleep(250)|};
                    {|DURABLE0002:Thread.Sleep(TimeSpan.FromSeconds(1))|};
                    return "";
            """),
        Workflow("""
                    await ctx.SleepAsync(TimeSpan.FromMilliseconds(250));
                    await ctx.SleepAsync(TimeSpan.FromSeconds(1));
                    return "";
            """));

    [Fact]
    public Task InABranch_TheBranchContextIsUsed() => Verify.CodeFixAsync(
        Workflow("""
                    var (a, b) = await ctx.ParallelAsync(
                        async branch => {|DURABLE0001:Guid.NewGuid()|},
                        async branch => { await {|DURABLE0002:Task.Delay(10)|}; return 1; });
                    return $"{a}{b}";
            """),
        Workflow("""
                    var (a, b) = await ctx.ParallelAsync(
                        async branch => await branch.NewGuidAsync(),
                        async branch => { await branch.SleepAsync(TimeSpan.FromMilliseconds(10)); return 1; });
                    return $"{a}{b}";
            """),
        fixAllIterations: 2);

    [Fact]
    public Task AContextParameterOfAHelper_IsUsed() => Verify.CodeFixAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext ctx, int input) => await Stamp(ctx);

            private static async Task<string> Stamp(IWorkflowContext workflow) => {|DURABLE0001:DateTime.UtcNow|}.ToString("O");
        }
        """, """
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext ctx, int input) => await Stamp(ctx);

            private static async Task<string> Stamp(IWorkflowContext workflow) => (await workflow.NowAsync()).UtcDateTime.ToString("O");
        }
        """);

    [Fact]
    public Task WithoutAwaitOrContext_NoFixIsOffered() => Verify.CodeFixAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public Task<string> RunAsync(IWorkflowContext ctx, int input) => Task.FromResult(Stamp() + {|DURABLE0001:Guid.NewGuid()|});

            private static string Stamp() => {|DURABLE0001:DateTime.UtcNow|}.ToString("O");
        }
        """, """
        public sealed class Orders : IWorkflow<int, string>
        {
            public Task<string> RunAsync(IWorkflowContext ctx, int input) => Task.FromResult(Stamp() + {|DURABLE0001:Guid.NewGuid()|});

            private static string Stamp() => {|DURABLE0001:DateTime.UtcNow|}.ToString("O");
        }
        """);

    [Fact]
    public Task TaskDelayOutsideAnAsyncLambda_StillBecomesSleepAsync() => Verify.CodeFixAsync(
        Workflow("""
                    await ctx.ParallelAsync(branch => {|DURABLE0002:Task.Delay(10)|});
                    return "";
            """),
        Workflow("""
                    await ctx.ParallelAsync(branch => branch.SleepAsync(TimeSpan.FromMilliseconds(10)));
                    return "";
            """));
}
