using Akka.Actor;
using Akka.Configuration;

namespace Durable.Actors.Cli.Hosting;

/// <summary>The CLI's ActorSystem: the plain (non-Hosting) embedding, configured with HOCON.</summary>
internal sealed class CliHost : IAsyncDisposable
{
    private CliHost(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    /// <summary>
    /// Akka's logging in every ActorSystem of the CLI (with <c>akka.loglevel</c> set beside it): to standard error through
    /// <see cref="StderrLogger"/>, no dead-letter noise, and no shutdown from the CLR's exit hook (the commands stop the
    /// system themselves).
    /// </summary>
    public const string AkkaLogging = """
        akka.stdout-loglevel = OFF
        akka.loggers = ["Durable.Actors.Cli.Hosting.StderrLogger, Durable.Actors.Cli"]
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """;

    /// <summary>
    /// What a host that stays (<c>serve</c>, <c>dashboard</c>, a cluster node) does by default and <c>--config</c> may
    /// change: it is the process's only tenant, so it hands memory back once idle.
    /// </summary>
    public static Config ServeDefaults { get; } = ConfigurationFactory.ParseString("durable-actors.release-memory-when-idle = 30s");

    /// <param name="database">The SQLite file.</param>
    /// <param name="staleTimeout">Over the configured one.</param>
    /// <param name="busyTimeout">Over the configured one.</param>
    /// <param name="allowForeignDatabase">Add the journal's tables to another application's database.</param>
    /// <param name="serve">A host that stays: it recovers, fires schedules and admits enqueued workflows.</param>
    /// <param name="settings">The user's HOCON (<c>--config</c>: its queues), under the CLI's own settings.</param>
    public static CliHost Create(string database, TimeSpan? staleTimeout = null, TimeSpan? busyTimeout = null, bool allowForeignDatabase = false, bool serve = false,
        Config? settings = null)
    {
        var hocon = $$"""
            durable-actors.database-path = {{DurableWorkflowsOptions.Quote(database)}}
            {{(staleTimeout is { } t ? $"durable-actors.stale-timeout = {(long)t.TotalMilliseconds}ms" : "")}}
            {{(busyTimeout is { } b ? $"durable-actors.sqlite.busy-timeout = {(long)b.TotalMilliseconds}ms" : "")}}
            durable-actors.allow-foreign-database = {{(allowForeignDatabase ? "on" : "off")}}
            # The CLI runs the workflows it is asked for; `recover` resumes the unfinished ones explicitly, `serve` on start.
            durable-actors.recover-on-start = {{(serve ? "on" : "off")}}
            # Schedules fire in the hosts that stay (`serve`, `dashboard`), not in a command that ends when its workflows do.
            durable-actors.schedules.enabled = {{(serve ? "on" : "off")}}
            durable-actors.queue-dispatch.enabled = {{(serve ? "on" : "off")}}
            # A person waits on the CLI: give up on a database that stays locked after two restarts, not five.
            durable-actors.supervision.max-restarts = 2
            akka.loglevel = WARNING
            {{AkkaLogging}}
            """;
        var config = ConfigurationFactory.ParseString(hocon);
        if (settings is not null)
            config = config.WithFallback(settings);
        if (serve)
            config = config.WithFallback(ServeDefaults);
        return new CliHost(ActorSystem.Create("durable-cli", DurableWorkflows.CreateSetup(config)));
    }

    public async ValueTask DisposeAsync() => await System.Terminate();
}
