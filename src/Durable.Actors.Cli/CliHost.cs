using Akka.Actor;
using Akka.Configuration;

namespace Durable.Actors.Cli;

/// <summary>The CLI's ActorSystem: the plain (non-Hosting) embedding, configured with HOCON.</summary>
internal sealed class CliHost : ICliHost
{
    private CliHost(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    public static CliHost Create(string database, TimeSpan? staleTimeout = null, TimeSpan? busyTimeout = null, bool allowForeignDatabase = false, bool serve = false)
    {
        var hocon = $$"""
            durable-actors.database-path = {{DurableWorkflowsOptions.Quote(database)}}
            {{(staleTimeout is { } t ? $"durable-actors.stale-timeout = {(long)t.TotalMilliseconds}ms" : "")}}
            {{(busyTimeout is { } b ? $"durable-actors.sqlite.busy-timeout = {(long)b.TotalMilliseconds}ms" : "")}}
            durable-actors.allow-foreign-database = {{(allowForeignDatabase ? "on" : "off")}}
            # The CLI runs the workflows it is asked for; `recover` resumes the unfinished ones explicitly, `serve` on start.
            durable-actors.recover-on-start = {{(serve ? "on" : "off")}}
            # A person waits on the CLI: give up on a database that stays locked after two restarts, not five.
            durable-actors.supervision.max-restarts = 2
            akka {
              loglevel = WARNING
              stdout-loglevel = OFF
              loggers = ["Durable.Actors.Cli.StderrLogger, Durable.Actors.Cli"]
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            """;
        return new CliHost(ActorSystem.Create("durable-cli", DurableWorkflows.CreateSetup(ConfigurationFactory.ParseString(hocon))));
    }

    public async ValueTask DisposeAsync() => await System.Terminate();
}
