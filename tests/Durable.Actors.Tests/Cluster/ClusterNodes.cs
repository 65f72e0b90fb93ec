using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Cluster;

namespace Durable.Actors.Tests.Cluster;

/// <summary>In-process cluster nodes for tests: each its own ActorSystem on a loopback port.</summary>
internal static class ClusterNodes
{
    // As serve --cluster does: heartbeats run on the thread pool, which grows too slowly under synchronous warm-up work.
    static ClusterNodes()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
    }

    /// <summary>
    /// The buckets each of <paramref name="regions"/> (shard regions) holds, once together they hold all 32 and each
    /// of the first two holds some (the victim of a test has workflows to lose, a survivor has its own).
    /// </summary>
    public static async Task<HashSet<int>[]> PlacedAsync(TimeSpan timeout, params IActorRef[] regions)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var held = new HashSet<int>[regions.Length];
            for (var i = 0; i < regions.Length; i++)
            {
                var state = await regions[i].Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(
                    Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(30));
                held[i] = state.Shards.Select(s => int.Parse(s.ShardId, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            }
            if (held[0].Count > 0 && held[1].Count > 0 && held.Sum(h => h.Count) == 32)
                return held;
            await Task.Delay(200);
        }
        throw new TimeoutException("the buckets were not spread over the nodes");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Address(int port) => $"akka.tcp://durable@127.0.0.1:{port}";

    /// <summary>
    /// Starts a cluster of one node on a port the operating system picks as it binds (no port picked before and bound
    /// later, which another test running beside it could take meanwhile): the node joins itself.
    /// </summary>
    public static Task<(ActorSystem System, IActorRef Region)> StartAloneAsync(
        string postgres, WorkflowRegistry registry, string extraHocon = "") =>
        StartAsync(postgres, port: 0, seedPort: 0, registry, extraHocon: extraHocon);

    /// <summary>
    /// Starts a node (a workflow host, or a proxy-only member when <paramref name="hostsWorkflows"/> is false) and waits
    /// until it is up; with port 0 it is a cluster of its own (<see cref="StartAloneAsync"/>).
    /// </summary>
    public static async Task<(ActorSystem System, IActorRef Region)> StartAsync(
        string postgres, int port, int seedPort, WorkflowRegistry registry, bool hostsWorkflows = true,
        IWorkflowObserver? observer = null, string extraHocon = "", Runtime.RuntimeHooks? hooks = null)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
              cluster {
                seed-nodes = [{{(port == 0 ? "" : $"\"{Address(seedPort)}\"")}}]
                roles = [{{(hostsWorkflows ? "\"workflows\"" : "\"client\"")}}]
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
            }
            durable-actors.sql.connection-string = "{{postgres}}"
            {{extraHocon}}
            """);
        var system = ActorSystem.Create("durable", DurableCluster.CreateSetup(config));
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        var region = DurableCluster.Start(system, registry, observer, loggerFactory: null, hooks);
        if (port == 0)
            Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (system, region);
    }
}
