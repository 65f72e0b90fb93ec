using System.CommandLine;
using Durable.Actors.Cli.Hosting;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>serve</c>: hosts the engine on the SQLite file until stopped, or runs a cluster node (<c>--cluster</c>).</summary>
internal static class ServeVerb
{
    public static Command Create(CliOptions o)
    {
        var cluster = new Option<bool>("--cluster") { Description = "Run as a node of a cluster, journaled in PostgreSQL (needs --postgres; see --port, --seed)" };
        var port = new Option<int>("--port") { Description = "With --cluster: this node's TCP port", DefaultValueFactory = _ => 4053 };
        var hostname = new Option<string>("--hostname") { Description = "With --cluster: the address other nodes reach this one at", DefaultValueFactory = _ => "127.0.0.1" };
        var seeds = new Option<string[]>("--seed") { Description = "With --cluster: a seed node as host:port (repeat it; default: this node, which then forms a new cluster)", AllowMultipleArgumentsPerToken = false };
        var postgres = new Option<string?>("--postgres") { Description = "With --cluster: the PostgreSQL connection string, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"" };
        var minNodes = new Option<int>("--min-nodes") { Description = "With --cluster: start placing workflows once this many nodes joined (on a cold start of several nodes)", DefaultValueFactory = _ => 1 };
        var config = new Option<string?>("--config") { Description = "A HOCON file over the defaults: its durable-actors section (e.g. the queues); with --cluster, the cluster's too (e.g. split-brain resolver timings)" };
        var verbose = new Option<bool>("--verbose") { Description = "With --cluster: log Akka's cluster events (INFO) on stderr" };
        var command = new Command("serve", "Host the engine until Ctrl+C or SIGTERM: resume unfinished workflows, fire their timers when due")
        {
            o.Db, o.Effects, o.StaleTimeout, o.BusyTimeout, cluster, port, hostname, seeds, postgres, verbose, minNodes, config,
        };
        command.SetAction((r, ct) => r.GetValue(cluster)
            ? ClusterNode.RunAsync(new ClusterNodeRequest(r.GetValue(hostname)!, r.GetValue(port), r.GetValue(seeds) ?? [], r.GetValue(postgres), r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(verbose), r.GetValue(minNodes), r.GetValue(config)), ct)
            : RunAsync(r.GetValue(o.Db)!, r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(o.BusyTimeout), r.GetValue(config), ct));
        return command;
    }

    /// <summary>
    /// Hosts the engine until SIGINT or SIGTERM: resumes the unfinished workflows, fires their timers when due, and runs
    /// on the ones that signals or cancellations wake. On stop, steps still running are left to recovery.
    /// </summary>
    private static Task<int> RunAsync(string databasePath, string? effectsLog, string? staleTimeoutText, string? busyTimeoutText, string? configFile,
        CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            var target = SqliteTarget.Of(databasePath, DatabaseUse.Writes(workflowId: null));
            var staleTimeout = Durations.ParseOptional(staleTimeoutText, "--stale-timeout");
            var busyTimeout = Durations.ParseOptional(busyTimeoutText, "--busy-timeout");
            var settings = configFile is null ? null : ClusterNode.ReadConfig(configFile);
            await using var host = CliHost.Create(target.Database, staleTimeout, busyTimeout, serve: true, settings: settings);
            DurableWorkflows.Start(host.System, target.Registry(effectsLog), new ConsoleObserver(crashAfter: null));
            using var stop = new StopSignals(cancellationToken);
            Console.WriteLine($"serving {target.Database}; stop with Ctrl+C or SIGTERM");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            Console.WriteLine("stopping: steps still running are left to recovery");
            return ExitCodes.Completed;
        });
}
