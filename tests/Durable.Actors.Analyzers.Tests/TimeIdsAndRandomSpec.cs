using Xunit;
using Verify = Durable.Actors.Analyzers.Tests.Verify;

namespace Durable.Actors.Analyzers.Tests;

/// <summary>DURABLE0001, and where workflow code starts and ends (the same for every rule).</summary>
public sealed class TimeIdsAndRandomSpec
{
    [Fact]
    public Task RunAsync_ReadingTheClockIdsOrRandomness_IsReported() => Verify.AnalyzerAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext context, int input)
            {
                var a = {|DURABLE0001:DateTime.UtcNow|};
                var b = {|DURABLE0001:DateTime.Now|};
                var c = {|DURABLE0001:DateTime.Today|};
                var d = {|DURABLE0001:DateTimeOffset.UtcNow|};
                var e = {|DURABLE0001:DateTimeOffset.Now|};
                var f = {|DURABLE0001:Guid.NewGuid()|};
                var g = {|DURABLE0001:new Random()|}.Next();
                var h = {|DURABLE0001:Random.Shared.Next(1, 7)|};
                var i = {|DURABLE0001:Random.Shared|};
                var j = {|DURABLE0001:System.Diagnostics.Stopwatch.StartNew()|};
                var k = {|DURABLE0001:System.Diagnostics.Stopwatch.GetTimestamp()|};
                var l = {|DURABLE0001:new System.Diagnostics.Stopwatch()|};
                var m = {|DURABLE0001:Environment.TickCount|} + {|DURABLE0001:Environment.TickCount64|};
                await context.StepAsync("noop", () => 0);
                return $"{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}";
            }
        }
        """);

    [Fact]
    public Task Message_NamesTheCallAndTheRemedy() => Verify.AnalyzerAsync("""
        public sealed class Orders : IWorkflow<int, Guid>
        {
            public Task<Guid> RunAsync(IWorkflowContext context, int input) => Task.FromResult({|#0:Guid.NewGuid()|});
        }
        """,
        new Microsoft.CodeAnalysis.Testing.DiagnosticResult(Descriptors.NondeterministicValue).WithLocation(0)
            .WithArguments("Guid.NewGuid()", "IWorkflowContext.NewGuidAsync()")
            .WithMessage("'Guid.NewGuid()' gives another value when the workflow replays; use IWorkflowContext.NewGuidAsync()"));

    [Fact]
    public Task StepBodies_AreNotWorkflowCode() => Verify.AnalyzerAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext context, int input)
            {
                var id = await context.StepAsync("id", ct => Task.FromResult(Guid.NewGuid()));
                var at = await context.StepAsync("at", () => DateTime.UtcNow);
                await context.StepAsync("log", () => Console.WriteLine(Random.Shared.Next()));
                await context.StepAsync("wait", async ct => await Task.Delay(10, ct));
                await context.StepAsync("method-group", Stamp);
                return $"{id}{at}";
            }

            // Passed as a step body, never called from workflow code.
            private static DateTime Stamp() => DateTime.UtcNow;
        }
        """);

    [Fact]
    public Task OtherClasses_AreNotWorkflowCode() => Verify.AnalyzerAsync("""
        public sealed class Clock
        {
            public DateTime Now() => DateTime.UtcNow;
            public Task<Guid> NewAsync() => Task.FromResult(Guid.NewGuid());
        }
        """);

    [Fact]
    public Task HelpersCalledFromRunAsync_AreWorkflowCode_Transitively() => Verify.AnalyzerAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext context, int input)
            {
                await Charge(context);
                return Label + Local();

                string Local() => {|DURABLE0001:Guid.NewGuid()|}.ToString();
            }

            private async Task Charge(IWorkflowContext context)
            {
                await context.StepAsync("charge", () => 1);
                Audit();
            }

            private static void Audit() => Console.WriteLine({|DURABLE0001:DateTime.UtcNow|});

            private string Label => {|DURABLE0001:DateTimeOffset.UtcNow|}.ToString();

            // Not called from RunAsync.
            public static DateTime Unused() => DateTime.UtcNow;
        }
        """);

    [Fact]
    public Task ParallelBranches_AreWorkflowCode() => Verify.AnalyzerAsync("""
        public sealed class Orders : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext context, int input)
            {
                var (a, b) = await context.ParallelAsync(
                    branch => Task.FromResult({|DURABLE0001:Guid.NewGuid()|}),
                    branch => branch.StepAsync("b", () => Guid.NewGuid()));
                var all = await context.ForEachParallelAsync(new[] { 1, 2 }, (branch, item) => Task.FromResult({|DURABLE0001:DateTime.UtcNow|}));
                return $"{a}{b}{all.Count}";
            }
        }
        """);

    [Fact]
    public Task LambdasTakingAContext_AreWorkflowCode() => Verify.AnalyzerAsync("""
        public static class Registrations
        {
            public static Func<IWorkflowContext, int, Task<string>> Inline { get; } = async (context, input) =>
            {
                await context.StepAsync("step", () => Guid.NewGuid());
                return {|DURABLE0001:Guid.NewGuid()|}.ToString();
            };
        }
        """);
}
