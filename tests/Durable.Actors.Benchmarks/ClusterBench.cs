using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Cluster;

namespace Durable.Actors.Benchmarks;

/// <summary>
/// <c>--cluster-postgres &lt;connection string&gt;</c>: W2 and W3 on a cluster of three node processes on this machine
/// (each <c>--child cluster-node</c>), journaled in that PostgreSQL database; this process joins as a member that
/// hosts no workflow and sends the starts through the shard region. One unmeasured warm-up round each, as on SQLite.
/// Give it a server with its durable settings (fsync and synchronous_commit on).
/// </summary>
internal static class ClusterBench
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string postgres, int runs, int w2Workflows, int w2Steps, int w3Workflows)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var nodes = ports.Select(p => Spawn(p, ports[0], postgres)).ToList();
        try
        {
            foreach (var node in nodes)
            {
                while (await node.StandardOutput.ReadLineAsync() is { } line && line != "UP")
                {
                }
            }
            using var system = ActorSystem.Create("bench", DurableCluster.CreateSetup(NodeConfig(FreePort(), ports[0], postgres, hostsWorkflows: false)));
            var region = DurableCluster.Start(system, new WorkflowRegistry());
            var w2 = new List<double>();
            var w3 = new List<double>();
            await RunAll(region, Enumerable.Range(0, w2Workflows).Select(i => new StartWorkflow($"warmup-{i}", "steps", $"{w2Steps}")));
            for (var run = 0; run < runs; run++)
            {
                var seconds = await RunAll(region, Enumerable.Range(0, w2Workflows).Select(i => new StartWorkflow($"w2-{run}-{i}", "steps", $"{w2Steps}")));
                w2.Add(w2Workflows * w2Steps / seconds);
                seconds = await RunAll(region, Enumerable.Range(0, w3Workflows).Select(i => new StartWorkflow($"w3-{run}-{i}", "onboarding-shape", "0")));
                w3.Add(w3Workflows / seconds);
            }
            Console.WriteLine("| workload (3 nodes, PostgreSQL) | median | min | max |");
            Console.WriteLine("|---|---|---|---|");
            Console.WriteLine(Row($"W2 steps/s ({w2Workflows} workflows × {w2Steps} steps)", w2));
            Console.WriteLine(Row($"W3 workflows/s ({w3Workflows} onboarding-shape)", w3));
            await system.Terminate();
            return 0;
        }
        finally
        {
            // Youngest first, one at a time.
            foreach (var node in Enumerable.Reverse(nodes))
            {
                node.Kill();
                await node.WaitForExitAsync();
                node.Dispose();
            }
        }
    }

    /// <summary>A node: hosts the benchmark's workflows until killed.</summary>
    public static async Task<int> NodeAsync(int port, int seedPort, string postgres, WorkflowRegistry registry)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        using var system = ActorSystem.Create("bench", DurableCluster.CreateSetup(NodeConfig(port, seedPort, postgres, hostsWorkflows: true)));
        DurableCluster.Start(system, registry);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task;
        Console.WriteLine("UP");
        await system.WhenTerminated;
        return 0;
    }

    private static Config NodeConfig(int port, int seedPort, string postgres, bool hostsWorkflows) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = ERROR
        akka.stdout-loglevel = OFF
        akka.log-dead-letters = off
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
        akka.cluster.seed-nodes = ["akka.tcp://bench@127.0.0.1:{{seedPort}}"]
        akka.cluster.roles = [{{(hostsWorkflows ? "workflows" : "client")}}]
        akka.cluster.role.workflows.min-nr-of-members = 3
        durable-actors.sql.connection-string = "{{postgres.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}}"
        durable-actors.recover-on-start = off
        """);

    private static Process Spawn(int port, int seedPort, string postgres)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(typeof(ClusterBench).Assembly.Location);
        foreach (var arg in new[] { "--child", "cluster-node", "--count", $"{port}", "--steps", $"{seedPort}", "--db", postgres })
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static async Task<double> RunAll(IActorRef region, IEnumerable<StartWorkflow> starts)
    {
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(starts.Select(async s =>
        {
            var reply = await region.Ask<object>(s, Timeout);
            if (reply is not WorkflowCompleted)
                throw new InvalidOperationException($"{s.WorkflowId} did not complete: {reply}");
        }));
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static string Row(string name, List<double> values)
    {
        var sorted = values.Order().ToArray();
        string F(double v) => v.ToString("0", CultureInfo.InvariantCulture);
        return $"| {name} | {F(sorted[sorted.Length / 2])} | {F(sorted[0])} | {F(sorted[^1])} |";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
