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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Address(int port) => $"akka.tcp://durable@127.0.0.1:{port}";

    /// <summary>Starts a node (a workflow host, or a proxy-only member when <paramref name="hostsWorkflows"/> is false) and waits until it is up.</summary>
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
                seed-nodes = ["{{Address(seedPort)}}"]
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
        await up.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (system, region);
    }
}
