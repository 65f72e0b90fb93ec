using Akka.Actor;
using Akka.Hosting;
using Durable.Actors.Samples.Onboarding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durable.Actors.Dashboard.Tests.TestSupport;

/// <summary>An ASP.NET Core app hosting the engine with Akka.Hosting and the dashboard mapped at /workflows, on real Kestrel at a free port.</summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private static int _count;
    private readonly WebApplication _app;

    private DashboardHost(WebApplication app, string baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public string BaseAddress { get; }

    public string Url => BaseAddress + "/workflows";

    public ActorSystem System => _app.Services.GetRequiredService<ActorSystem>();

    public WorkflowClient Client => DurableWorkflows.Client(System);

    /// <param name="forwardedHeaders">When given, the app applies forwarded headers with these options before the dashboard, as an app behind a proxy does.</param>
    public static async Task<DashboardHost> StartAsync(
        string database, Action<WorkflowRegistry>? register = null, Action<DurableDashboardOptions>? dashboard = null,
        ForwardedHeadersOptions? forwardedHeaders = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAkka($"dashboard-test-{Interlocked.Increment(ref _count)}", (akka, _) => akka.WithDurableWorkflows(options =>
        {
            options.DatabasePath = database;
            SampleWorkflows.Register(options.Workflows, new EffectsLog(Path.Combine(Path.GetDirectoryName(database)!, "effects.log")));
            register?.Invoke(options.Workflows);
        }));
        var app = builder.Build();
        if (forwardedHeaders is not null)
            app.UseForwardedHeaders(forwardedHeaders);
        app.MapDurableWorkflowsDashboard("/workflows", dashboard);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardHost(app, address.TrimEnd('/'));
    }

    public string WorkflowUrl(string workflowId) => Url + "/workflow?id=" + Uri.EscapeDataString(workflowId);

    /// <summary>Waits until the journal says the workflow is in a state <paramref name="done"/> accepts.</summary>
    public async Task<WorkflowStatus> WaitForAsync(string workflowId, Func<WorkflowStatus, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var status = await DurableWorkflows.GetStatusAsync(System, workflowId);
            if (status is not null && done(status))
                return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"workflow '{workflowId}' did not reach the expected state within 60 s; last: {status?.Status} waiting for {status?.WaitingFor}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

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
