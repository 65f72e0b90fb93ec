using Akka.Actor;
using Akka.Hosting;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Durable.Actors.Tests.Observability;

/// <summary>
/// Logs, traces and metrics of a workflow in an Akka.Hosting application: logs through its ILoggerFactory,
/// structured, with the workflow id in scope and the trace of the step that wrote them.
/// </summary>
public sealed class LoggingSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly Action<ILogger, string, Exception?> InsideStep =
        LoggerMessage.Define<string>(LogLevel.Information, new EventId(1, "InsideStep"), "Inside step two of {Text}");

    [Fact]
    public async Task WithDurableWorkflows_InAGenericHost_LogsTheWorkflowsStartAndEndOnceAndItsStepsAndCodeWithTheWorkflowIdInScope()
    {
        using var folder = new TempFolder();
        using var telemetry = new TelemetryCollector();
        var id = $"log-{Guid.NewGuid():N}";
        var type = $"logged-{Guid.NewGuid():N}";
        var logs = new CollectingLoggerProvider();
        ILogger? codeLogger = null;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Services.AddAkka("logged", (akka, _) => akka.WithDurableWorkflows(options =>
        {
            options.DatabasePath = folder.Database;
            options.Workflows.Add<string, string>(type, async (ctx, text) =>
            {
                var a = await ctx.StepAsync("one", () => text);
                var b = await ctx.StepAsync("two", () =>
                {
                    InsideStep(codeLogger!, text, null);
                    return a + text;
                });
                return await ctx.StepAsync<string>("three", () => b + text);
            });
        }));
        using var host = builder.Build();
        codeLogger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("App.Code");
        await host.StartAsync();
        try
        {
            var coordinator = await host.Services.GetRequiredService<IRequiredActor<WorkflowCoordinator>>().GetAsync();
            var reply = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow(id, type, "\"x\""), Timeout);
            Assert.Equal("xxx", reply.GetResult<string>());
        }
        finally
        {
            await host.StopAsync();
        }

        var engine = logs.Entries.Where(e => e.Category == "Durable.Actors.Workflows").ToList();
        var information = engine.Where(e => e.Level >= LogLevel.Information).ToList();
        Assert.Equal(["WorkflowStarted", "WorkflowCompleted"], information.Select(e => e.EventName));
        Assert.All(information, e => Assert.Equal(id, e.Values["WorkflowId"]));
        Assert.All(information, e => Assert.Equal(type, e.Values["WorkflowType"]));
        Assert.Equal($"Workflow {id} ({type}) started", information[0].Message);

        // Steps log once each, at Debug, with their id as a value and the workflow in scope.
        var steps = engine.Where(e => e.EventName == "StepExecuted").ToList();
        Assert.Equal(["one", "two", "three"], steps.Select(e => e.Values["StepId"]));
        Assert.All(steps, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.All(steps, e => Assert.Equal(id, e.Scopes["WorkflowId"]));

        // What the workflow's own code logs carries the workflow id too.
        var code = Assert.Single(logs.Entries, e => e.Category == "App.Code");
        Assert.Equal(id, code.Scopes["WorkflowId"]);
        Assert.Equal(type, code.Scopes["WorkflowType"]);

        // ... and the trace of the step that wrote it, whose span is in the run's trace; the meter counted the run.
        var spans = telemetry.SpansOf(id);
        var run = Assert.Single(spans, s => s.OperationName == "durable.workflow.run");
        var two = Assert.Single(spans, s => s.OperationName == "durable.step" && s.GetTagItem("durable.step.id") as string == "two");
        Assert.Equal(run.TraceId, two.TraceId);
        Assert.Equal(two.TraceId.ToHexString(), code.Scopes["TraceId"]?.ToString());
        Assert.Equal(two.SpanId.ToHexString(), code.Scopes["SpanId"]?.ToString());
        Assert.Equal(1, telemetry.Sum("durable.workflows.completed", ("durable.workflow.type", type)));
        Assert.Equal(3, telemetry.Sum("durable.step.attempts", ("durable.workflow.type", type)));
    }
}
