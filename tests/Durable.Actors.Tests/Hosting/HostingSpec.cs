using Akka.Actor;
using Akka.Hosting;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Durable.Actors.Tests.Hosting;

public sealed class HostingSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WithDurableWorkflows_InAGenericHost_RunsWorkflowsThroughTheRegisteredCoordinator()
    {
        using var folder = new TempFolder();
        var database = folder.File("hosted/app.db");
        var counter = new StepCounter();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted", (akka, _) => akka.WithDurableWorkflows(options =>
        {
            options.DatabasePath = database;
            options.StaleTimeout = TimeSpan.FromSeconds(5);
            options.Workflows.Add<string, string>("echo", async (ctx, text) =>
                await ctx.StepAsync("echo", () => { counter.Ran("echo"); return text + text; }));
        }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var coordinator = await host.Services.GetRequiredService<IRequiredActor<WorkflowCoordinator>>().GetAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();

            var reply = await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("hosted-1", "echo", "\"ab\""), Timeout);
            var status = await DurableWorkflows.GetStatusAsync(system, "hosted-1");

            Assert.Equal("abab", reply.GetResult<string>());
            Assert.Equal(1, counter["echo"]);
            Assert.True(File.Exists(database));
            Assert.Equal(WorkflowRunStatus.Completed, status!.Status);
            Assert.Equal(TimeSpan.FromSeconds(5), system.Settings.Config.GetTimeSpan("durable-actors.stale-timeout"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WithDurableWorkflows_DatabasePathInTheApplicationsHoconOnly_ReadsTheFileItWrites()
    {
        using var folder = new TempFolder();
        var database = folder.File("from-hocon.db");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted-hocon", (akka, _) => akka
            .AddHocon($"durable-actors.database-path = {DurableWorkflowsOptions.Quote(database)}", HoconAddMode.Prepend)
            .WithDurableWorkflows(options =>
                options.Workflows.Add<string, string>("echo", async (ctx, text) => await ctx.StepAsync("echo", () => text + text))));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var coordinator = await host.Services.GetRequiredService<IRequiredActor<WorkflowCoordinator>>().GetAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();

            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("hocon-1", "echo", "\"ab\""), Timeout);
            var status = await DurableWorkflows.GetStatusAsync(system, "hocon-1");
            var list = await DurableWorkflows.ListAsync(system);

            Assert.True(File.Exists(database));
            Assert.NotNull(status);
            Assert.Equal(WorkflowRunStatus.Completed, status.Status);
            Assert.Equal("hocon-1", Assert.Single(list).WorkflowId);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
