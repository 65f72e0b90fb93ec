using Akka.Actor;
using Akka.Hosting;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        var counter = new EffectRecorder();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAkka("hosted", (akka, _) => akka.WithDurableWorkflows(options =>
        {
            options.DatabasePath = database;
            options.StaleTimeout = TimeSpan.FromSeconds(5);
            options.Workflows.Add<string, string>("echo", async (ctx, text) =>
                await ctx.StepAsync("echo", () => { counter.Record("echo"); return text + text; }));
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
            Assert.Equal(1, counter.Count("echo"));
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

    [Fact]
    public async Task WithDurableWorkflows_AkkaLogEvents_GoThroughTheHostsLoggerFactory()
    {
        using var folder = new TempFolder();
        var captured = new CapturingLoggerProvider("durable-actors-log-marker");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(captured);
        builder.Services.AddAkka("hosted-logs", (akka, _) => akka.WithDurableWorkflows(options => options.DatabasePath = folder.Database));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();

            system.EventStream.Publish(new Akka.Event.Warning("hosting-spec", typeof(HostingSpec), "durable-actors-log-marker from Akka"));

            var (level, message) = await captured.Seen.Task.WaitAsync(Timeout);
            Assert.Equal(LogLevel.Warning, level);
            Assert.Contains("durable-actors-log-marker from Akka", message);
            // Only there: Akka's default logger, which writes to stdout, is gone.
            Assert.Equal(["Akka.Hosting.Logging.LoggerFactoryLogger"], system.Settings.Config.GetStringList("akka.loggers").Select(l => l.Split(',')[0].Trim()));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>Completes <see cref="Seen"/> with the first log entry that contains the marker.</summary>
    private sealed class CapturingLoggerProvider(string marker) : ILoggerProvider
    {
        public TaskCompletionSource<(LogLevel Level, string Message)> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var message = formatter(state, exception);
                if (message.Contains(provider._marker, StringComparison.Ordinal))
                    provider.Seen.TrySetResult((logLevel, message));
            }
        }

        private readonly string _marker = marker;
    }

    public sealed class Greeter
    {
        private readonly string _greeting = "hello";

        public string Greet(string name) => $"{_greeting}, {name}";
    }

    public sealed class RunScope : IDisposable
    {
        private static int _disposed;

        private readonly string _mark = "!";

        public static int Disposed => Volatile.Read(ref _disposed);

        public string Mark => _mark;

        public void Dispose() => Interlocked.Increment(ref _disposed);
    }

    public sealed class GreetingWorkflow(Greeter greeter, RunScope scope) : IWorkflow<string, string>
    {
        public Task<string> RunAsync(IWorkflowContext context, string input) =>
            context.StepAsync("greet", () => greeter.Greet(input) + scope.Mark);
    }

    [Fact]
    public async Task AddWorkflow_ResolvesItsDependenciesPerRunInAScopeDisposedWhenTheRunEnds()
    {
        using var folder = new TempFolder();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<Greeter>();
        builder.Services.AddScoped<RunScope>();
        builder.Services.AddAkka("hosted-di", (akka, _) => akka.WithDurableWorkflows(options =>
        {
            options.DatabasePath = folder.File("di.db");
            options.AddWorkflow<GreetingWorkflow, string, string>("greeting");
        }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var disposedBefore = RunScope.Disposed;

            var handle = await DurableWorkflows.Client(system).StartAsync<string, string>("greeting", "di-1", "ada");

            Assert.Equal("hello, ada!", await handle.GetResultAsync().WaitAsync(Timeout));
            // The run's scope (and the scoped service in it) was disposed when the run ended.
            Assert.Equal(disposedBefore + 1, RunScope.Disposed);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
