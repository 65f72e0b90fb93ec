using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Durable.Actors.Cluster;
using Durable.Actors.Dashboard;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

[Collection(ClusterTests.Name)]
public sealed class ClusterHostingSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WithDurableWorkflowsCluster_BesideWithClustering_RunsWorkflowsThroughTheRegisteredRegionAndClient_AndTheDashboardShowsQueuesAndSchedules()
    {
        var postgres = await PostgresServer.NewDatabaseAsync();
        var port = ClusterNodes.FreePort();
        var counter = new EffectRecorder();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAkka("durable", (akka, _) => akka
            .WithRemoting("127.0.0.1", port)
            .WithClustering(new ClusterOptions { Roles = ["workflows"], SeedNodes = [ClusterNodes.Address(port)] })
            .WithDurableWorkflowsCluster(postgres, options => options.Workflows
                .Add<string, string>("echo", async (ctx, text) => await ctx.StepAsync("echo", () => { counter.Record("echo"); return text + text; }))
                .AddQueue(new QueueOptions("echoes") { Concurrency = 1 })));
        var host = builder.Build();
        host.MapDurableWorkflowsDashboard("/workflows");
        await host.StartAsync();
        try
        {
            var region = await host.Services.GetRequiredService<IRequiredActor<WorkflowCoordinator>>().GetAsync();
            var system = host.Services.GetRequiredService<ActorSystem>();

            var reply = await region.Ask<WorkflowCompleted>(new StartWorkflow("hosted-1", "echo", "\"ab\""), Timeout);
            Assert.Equal("abab", reply.GetResult<string>());
            var handle = await DurableWorkflows.Client(system).StartAsync<string, string>("echo", "hosted-2", "cd");
            Assert.Equal("cdcd", await handle.GetResultAsync().WaitAsync(Timeout));
            Assert.Equal(2, counter.Count("echo"));
            Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(system, "hosted-1"))!.Status);
            Assert.Equal("sql", system.Settings.Config.GetString("durable-actors.storage"));
            // The shard coordinator keeps its state in Distributed Data (whose replicator sharding then starts), although
            // Akka.Hosting's sharding defaults say "persistence".
            var replicator = await system.ActorSelection("/system/sharding/workflowsReplicator").Ask<ActorIdentity>(new Identify(1), Timeout);
            Assert.NotNull(replicator.Subject);
            // The PostgreSQL journal and its workflow index, as with DurableCluster.CreateSetup: the list reads the index.
            Assert.IsType<Durable.Actors.Cluster.Storage.PostgresWorkflowIndex>(Inspection.WorkflowIndexSources.For(system));
            var counts = await DurableWorkflows.CountByStatusAsync(system);
            Assert.Equal(2, counts![WorkflowRunStatus.Completed]);

            // The dashboard of a cluster node: its queues and schedules pages.
            var client = DurableWorkflows.Client(system);
            var enqueued = await client.EnqueueAsync<string, string>("echo", "hosted-3", "ef", new EnqueueOptions("echoes"));
            Assert.Equal("efef", await enqueued.GetResultAsync().WaitAsync(Timeout));
            await client.Schedules.CreateAsync(new ScheduleSpec("hourly-echo", "echo") { Cron = "0 * * * *", InputJson = "\"gh\"" });
            using var http = new HttpClient { BaseAddress = new Uri(host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
            var queues = await http.GetStringAsync("/workflows/queues");
            Assert.Contains("echoes", queues, StringComparison.Ordinal);
            Assert.Contains("concurrency 1", queues, StringComparison.Ordinal);
            var schedules = await http.GetStringAsync("/workflows/schedules");
            Assert.Contains("hourly-echo", schedules, StringComparison.Ordinal);
            Assert.Contains("0 * * * *", schedules, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithDurableWorkflowsCluster_LogsTheWorkflowsAndStepsThroughTheHostsLoggerFactory()
    {
        var postgres = await PostgresServer.NewDatabaseAsync();
        var port = ClusterNodes.FreePort();
        var logs = new CollectingLoggerProvider();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddAkka("durable", (akka, _) => akka
            .WithRemoting("127.0.0.1", port)
            .WithClustering(new ClusterOptions { Roles = ["workflows"], SeedNodes = [ClusterNodes.Address(port)] })
            .WithDurableWorkflowsCluster(postgres, options => options.Workflows.Add<string, string>("echo", async (ctx, text) =>
                await ctx.StepAsync("echo", () => text + text))));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var region = await host.Services.GetRequiredService<IRequiredActor<WorkflowCoordinator>>().GetAsync();
            var reply = await region.Ask<WorkflowCompleted>(new StartWorkflow("logged-1", "echo", "\"ab\""), Timeout);
            Assert.Equal("abab", reply.GetResult<string>());
        }
        finally
        {
            await host.StopAsync();
        }

        // As on one machine: the start and end at Information, the step at Debug, with the workflow id as value and in scope.
        var engine = logs.Entries.Where(e => e.Category == "Durable.Actors.Workflows" && Equals(e.Values.GetValueOrDefault("WorkflowId") ?? e.Scopes.GetValueOrDefault("WorkflowId"), "logged-1")).ToList();
        Assert.Equal(["WorkflowStarted", "WorkflowCompleted"], engine.Where(e => e.Level >= LogLevel.Information).Select(e => e.EventName));
        var step = Assert.Single(engine, e => e.EventName == "StepExecuted");
        Assert.Equal("echo", step.Values["StepId"]);
        Assert.Equal("logged-1", step.Scopes["WorkflowId"]);
    }

    [Fact]
    public async Task WithDurableWorkflowsCluster_AndHoconInFrontNamingAnotherDatabase_RefusesToStartNamingBoth()
    {
        var given = await PostgresServer.NewDatabaseAsync();
        var other = await PostgresServer.NewDatabaseAsync();
        var port = ClusterNodes.FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("durable", (akka, _) => akka
            .WithRemoting("127.0.0.1", port)
            .WithClustering(new ClusterOptions { Roles = ["workflows"], SeedNodes = [ClusterNodes.Address(port)] })
            .WithDurableWorkflowsCluster(given, options => options.Workflows.Add<string, string>("echo", async (ctx, text) =>
                await ctx.StepAsync("echo", () => text + text)))
            // The application's own HOCON, put in front of the engine's: it names another database than the code does.
            .AddHocon($"durable-actors.sql.connection-string = {Durable.Actors.DurableWorkflowsOptions.Quote(other)}", HoconAddMode.Prepend));
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<Akka.Configuration.ConfigurationException>(() => host.StartAsync());

        var givenName = new Npgsql.NpgsqlConnectionStringBuilder(given).Database;
        var otherName = new Npgsql.NpgsqlConnectionStringBuilder(other).Database;
        Assert.Equal(
            $"durable-actors.sql.connection-string in the ActorSystem's HOCON (database {otherName} at 127.0.0.1:{new Npgsql.NpgsqlConnectionStringBuilder(other).Port}) " +
            $"is not the connection string given to WithDurableWorkflowsCluster (database {givenName} at 127.0.0.1:{new Npgsql.NpgsqlConnectionStringBuilder(given).Port}): " +
            "name the database in one place, or the same in both",
            refused.Message);
    }
}
