using Xunit;
using Verify = Durable.Actors.Analyzers.Tests.Verify;

namespace Durable.Actors.Analyzers.Tests;

/// <summary>DURABLE0007 (durable operations inside a step body) and DURABLE0008 (step ids that are not constants).</summary>
public sealed class StepRulesSpec
{
    [Fact]
    public Task DurableOperationsInsideAStepBody_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Nested : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                return await context.StepAsync("outer", async ct =>
                {
                    var id = context.WorkflowId;
                    var now = await {|DURABLE0007:context.NowAsync()|};
                    await {|DURABLE0007:context.SleepAsync(TimeSpan.FromSeconds(1))|};
                    return await {|DURABLE0007:context.StepAsync("inner", async _ => await {|DURABLE0007:context.RandomAsync(0, 10)|})|};
                });
            }
        }
        """);

    [Fact]
    public Task DurableOperationsInSyncStepOverloads_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Nested : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                await context.StepAsync("outer", () => { {|DURABLE0007:context.SleepAsync(TimeSpan.FromSeconds(1))|}.Wait(); });
                return await context.StepAsync("sum", () => input + 1);
            }
        }
        """);

    [Fact]
    public Task StepIds_ThatAreNotConstants_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Ids : IWorkflow<string, int>
        {
            private const string Charge = "charge";
            private const int Version = 2;

            public async Task<int> RunAsync(IWorkflowContext context, string input)
            {
                await context.StepAsync("literal", () => 1);
                await context.StepAsync(Charge, () => 1);
                await context.StepAsync($"{Charge}-v{Version}", () => 1);
                await context.StepAsync(nameof(RunAsync), () => 1);
                await context.StepAsync({|DURABLE0008:input|}, () => 1);
                for (var i = 0; i < 3; i++)
                    await context.StepAsync({|DURABLE0008:$"item-{i}"|}, () => i);
                await Step(context, "helper");
                await Shared(context, "public-helper");
                await Step(context, "helper-2");
                return 0;
            }

            // Every call passes a constant: fine.
            private Task Step(IWorkflowContext context, string stepId) => context.StepAsync(stepId, () => 1);

            // Callable from anywhere: the id is not known.
            public Task Shared(IWorkflowContext context, string stepId) => context.StepAsync({|DURABLE0008:stepId|}, () => 1);
        }
        """);

    [Fact]
    public Task StepIdsPassedThroughAHelper_AreReportedWhenACallPassesAVariable() => Verify.AnalyzerAsync("""
        public sealed class Ids : IWorkflow<string, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, string input)
            {
                await Step(context, "fine");
                await Step(context, input);
                return 0;
            }

            private Task Step(IWorkflowContext context, string stepId) => context.StepAsync({|DURABLE0008:stepId|}, () => 1);
        }
        """);

    [Fact]
    public Task StepIds_ChosenAmongConstants_AreFine() => Verify.AnalyzerAsync("""
        public sealed class Ids : IWorkflow<bool, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, bool approved)
            {
                await context.StepAsync(approved ? "pay" : "reject", () => 1);
                var kind = approved switch { true => "approved", false => "rejected" };
                await context.StepAsync(kind, () => 1);
                var once = approved ? "a" : "b";
                await context.StepAsync(once, () => 1);
                var changed = "first";
                changed = approved.ToString();
                await context.StepAsync({|DURABLE0008:changed|}, () => 1);
                await context.StepAsync({|DURABLE0008:approved ? "pay" : changed|}, () => 1);
                return 0;
            }
        }
        """);
}
