using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cluster;
using Durable.Actors.Samples.Onboarding;

namespace Durable.Actors.Cli.Hosting;

/// <summary><c>serve --cluster</c>: one node of a cluster that runs the samples, journaled in PostgreSQL.</summary>
internal static class ClusterNode
{
    public const string SystemName = "durable";

    public static async Task<int> RunAsync(ClusterNodeRequest request, CancellationToken cancellationToken)
    {
        try
        {
            if (string.IsNullOrWhiteSpace(request.Postgres))
                throw new UsageException("serve --cluster needs --postgres <connection string>, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"");
            if (request.MinNodes < 1)
                throw new UsageException($"--min-nodes must be 1 or more, not {request.MinNodes}");
            if (request.Port is < 1 or > 65535)
                throw new UsageException($"--port must be from 1 to 65535, not {request.Port}");
            var seeds = (request.Seeds.Length == 0 ? [$"{request.Hostname}:{request.Port}"] : request.Seeds).Select(SeedAddress).ToList();
            var staleTimeout = Durations.ParseOptional(request.StaleTimeout, "--stale-timeout");
            var effects = new EffectsLog(request.Effects ?? $"effects-{request.Port.ToString(CultureInfo.InvariantCulture)}.log");

            var hocon = $$"""
                akka {
                  remote.dot-netty.tcp {
                    hostname = {{DurableWorkflowsOptions.Quote(request.Hostname)}}
                    port = {{request.Port.ToString(CultureInfo.InvariantCulture)}}
                  }
                  cluster {
                    seed-nodes = [{{string.Join(", ", seeds.Select(DurableWorkflowsOptions.Quote))}}]
                    roles = ["workflows"]
                    # Members become Up (and the buckets are placed) once this many nodes joined, so that a cold start
                    # spreads the buckets instead of placing them all on the first node.
                    min-nr-of-members = {{request.MinNodes.ToString(CultureInfo.InvariantCulture)}}
                  }
                  loglevel = {{(request.Verbose ? "INFO" : "WARNING")}}
                }
                {{CliHost.AkkaLogging}}
                durable-actors.sql.connection-string = {{DurableWorkflowsOptions.Quote(request.Postgres)}}
                {{(staleTimeout is { } t ? $"durable-actors.stale-timeout = {(long)t.TotalMilliseconds}ms" : "")}}
                """;
            var config = ConfigurationFactory.ParseString(hocon);
            if (request.ConfigFile is { } file)
                config = config.WithFallback(ReadConfig(file));
            config = config.WithFallback(CliHost.ServeDefaults);
            // A node's heartbeats run on the thread pool. At start, linq2db and Npgsql warm up with synchronous work on
            // pool threads, and on a loaded machine the pool grows too slowly: heartbeats were delayed by 12 s and the
            // nodes downed each other. More threads from the start keep them on time.
            ThreadPool.GetMinThreads(out var workers, out var io);
            ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
            // Checked before the node joins anything: a node without its database must not take buckets.
            using var system = ActorSystem.Create(SystemName, DurableCluster.CreateSetup(config));
            try
            {
                try
                {
                    DurableCluster.Start(system, SampleWorkflows.Register(new WorkflowRegistry(), effects), new ConsoleObserver(crashAfter: null));
                }
                catch (Exception e) when (e is DatabaseUnavailableException or ConfigurationException)
                {
                    // Refused: the command's output is its one-line error. What the transport logs while the node leaves
                    // the cluster it had joined and stops says nothing more.
                    StderrLogger.Silenced = true;
                    throw;
                }
                var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
                using var stop = new StopSignals(cancellationToken);
                try
                {
                    await up.Task.WaitAsync(stop.Token);
                    Console.WriteLine($"cluster node {request.Hostname}:{request.Port.ToString(CultureInfo.InvariantCulture)} is up (seeds {string.Join(", ", seeds)}); stop with Ctrl+C or SIGTERM");
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
                Console.WriteLine("leaving the cluster: this node's workflows move to the others");
                await Akka.Cluster.Cluster.Get(system).LeaveAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Completed;
            }
            finally
            {
                await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is UsageException or DatabaseUnavailableException or ConfigurationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadUsage;
        }
    }

    /// <summary>The <c>--config</c> file: HOCON over the cluster defaults (the command's own options still win).</summary>
    internal static Config ReadConfig(string file)
    {
        if (!File.Exists(file))
            throw new UsageException($"--config '{Path.GetFullPath(file)}' does not exist");
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(file));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new UsageException($"--config '{Path.GetFullPath(file)}' is not valid HOCON: {e.Message}");
        }
    }

    /// <summary><c>host:port</c> or a full <c>akka.tcp://durable@host:port</c> address.</summary>
    internal static string SeedAddress(string seed)
    {
        if (seed.StartsWith("akka.tcp://", StringComparison.Ordinal))
            return seed;
        var colon = seed.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(seed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new UsageException($"--seed '{seed}' is not host:port (e.g. 127.0.0.1:4053) or akka.tcp://{SystemName}@host:port");
        return $"akka.tcp://{SystemName}@{seed}";
    }
}

internal sealed record ClusterNodeRequest(string Hostname, int Port, string[] Seeds, string? Postgres, string? Effects, string? StaleTimeout, bool Verbose, int MinNodes = 1, string? ConfigFile = null);
