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
/// Then the failover time, once per run, each on a fresh cluster of three nodes: SIGKILL of a node until a survivor
/// runs a step of a workflow that node was running. Give it a server with its durable settings (fsync and
/// synchronous_commit on).
/// </summary>
internal static class ClusterBench
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string postgres, int runs, int w2Workflows, int w2Steps, int w3Workflows)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var nodes = ports.Select(p => Spawn(p, ports[0], postgres)).ToList();
        var w2 = new List<double>();
        var w3 = new List<double>();
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
            await RunAll(region, Enumerable.Range(0, w2Workflows).Select(i => new StartWorkflow($"warmup-{i}", "steps", $"{w2Steps}")));
            for (var run = 0; run < runs; run++)
            {
                var seconds = await RunAll(region, Enumerable.Range(0, w2Workflows).Select(i => new StartWorkflow($"w2-{run}-{i}", "steps", $"{w2Steps}")));
                w2.Add(w2Workflows * w2Steps / seconds);
                seconds = await RunAll(region, Enumerable.Range(0, w3Workflows).Select(i => new StartWorkflow($"w3-{run}-{i}", "onboarding-shape", "0")));
                w3.Add(w3Workflows / seconds);
            }
            await system.Terminate();
        }
        finally
        {
            await StopAsync(nodes);
        }

        var failover = new List<double>();
        for (var run = 0; run < runs; run++)
            failover.Add(await FailoverAsync(postgres, run));
        Console.WriteLine("| workload (3 nodes, PostgreSQL) | median | min | max |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine(Row($"W2 steps/s ({w2Workflows} workflows × {w2Steps} steps)", w2, "0"));
        Console.WriteLine(Row($"W3 workflows/s ({w3Workflows} onboarding-shape)", w3, "0"));
        Console.WriteLine(Row("Failover s (SIGKILL of a node → a survivor runs a step of one of its workflows)", failover, "0.0"));
        return 0;
    }

    /// <summary>
    /// A fresh cluster of three nodes runs 90 workflows of slow steps; once the youngest node (the oldest with
    /// DURABLE_BENCH_KILL_OLDEST=1) has run 20 steps it is killed (SIGKILL), and the time until a survivor runs a step
    /// of a workflow whose last step ran there is returned. Nodes print each step they run (<see cref="FailoverWorkflow"/>), read here as they come. DURABLE_BENCH_DEBUG=1
    /// echoes the nodes' output after the kill to standard error (with DURABLE_BENCH_CLUSTER_HOCON, HOCON given to the
    /// nodes, e.g. a log level).
    /// </summary>
    private static async Task<double> FailoverAsync(string postgres, int run)
    {
        var ports = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var nodes = ports.Select(p => Spawn(p, ports[0], postgres, recover: true)).ToList();
        try
        {
            foreach (var node in nodes)
            {
                while (await node.StandardOutput.ReadLineAsync() is { } line && line != "UP")
                {
                }
            }
            var victim = nodes[^1];
            var gate = new object();
            var lastRanOn = new Dictionary<string, Process>(StringComparer.Ordinal);
            var stepsOnVictim = 0;
            HashSet<string>? lost = null;
            var victimBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var recovered = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var readers = nodes.Select(node => Task.Run(async () =>
            {
                while (await node.StandardOutput.ReadLineAsync() is { } line)
                {
                    if (Environment.GetEnvironmentVariable("DURABLE_BENCH_DEBUG") is not null && lost is not null)
                        Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} node {nodes.IndexOf(node)}: {line}");
                    if (line.Split(' ') is not ["RAN", var workflowId, _])
                        continue;
                    lock (gate)
                    {
                        if (lost is null)
                        {
                            lastRanOn[workflowId] = node;
                            if (node == victim && ++stepsOnVictim >= 20)
                                victimBusy.TrySetResult();
                        }
                        else if (node != victim && lost.Contains(workflowId))
                        {
                            recovered.TrySetResult(Stopwatch.GetTimestamp());
                        }
                    }
                }
            })).ToList();

            // This member sees the victim's connection drop: Akka's log of it (an error with a stack trace) is not a result.
            var config = ConfigurationFactory.ParseString("akka.loglevel = OFF")
                .WithFallback(NodeConfig(FreePort(), ports[0], postgres, hostsWorkflows: false));
            using var system = ActorSystem.Create("bench", DurableCluster.CreateSetup(config));
            var region = DurableCluster.Start(system, new WorkflowRegistry());
            // The youngest workflow node; DURABLE_BENCH_KILL_OLDEST=1 kills the oldest, which also hosts the shard
            // coordinator (a cluster singleton, which then moves too).
            var cluster = Akka.Cluster.Cluster.Get(system);
            while (cluster.State.Members.Count(m => m.HasRole("workflows") && m.Status == Akka.Cluster.MemberStatus.Up) < 3)
                await Task.Delay(100);
            var members = cluster.State.Members.Where(m => m.HasRole("workflows")).ToList();
            var chosen = Environment.GetEnvironmentVariable("DURABLE_BENCH_KILL_OLDEST") == "1"
                ? members.Aggregate((a, b) => a.IsOlderThan(b) ? a : b)
                : members.Aggregate((a, b) => a.IsOlderThan(b) ? b : a);
            lock (gate)
                victim = nodes[Array.IndexOf(ports, chosen.Address.Port!.Value)];
            for (var i = 0; i < 90; i++)
                region.Tell(new StartWorkflow($"failover-{run}-{Guid.NewGuid():N}", "failover", "100"), ActorRefs.NoSender);
            await victimBusy.Task.WaitAsync(Timeout);
            long killed;
            lock (gate)
            {
                victim.Kill();
                killed = Stopwatch.GetTimestamp();
                lost = lastRanOn.Where(e => e.Value == victim).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
            }
            if (Environment.GetEnvironmentVariable("DURABLE_BENCH_DEBUG") is not null)
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} killed node {nodes.IndexOf(victim)}; lost: {string.Join(", ", lost)}");
            var ranAgain = await recovered.Task.WaitAsync(Timeout);
            await system.Terminate();
            return Stopwatch.GetElapsedTime(killed, ranAgain).TotalSeconds;
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    private static async Task StopAsync(List<Process> nodes)
    {
        // Youngest first, one at a time.
        foreach (var node in Enumerable.Reverse(nodes))
        {
            node.Kill();
            await node.WaitForExitAsync();
            node.Dispose();
        }
    }

    /// <summary>A node: hosts the benchmark's workflows until killed.</summary>
    public static async Task<int> NodeAsync(int port, int seedPort, string postgres, WorkflowRegistry registry, bool recover)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        using var system = ActorSystem.Create("bench", DurableCluster.CreateSetup(NodeConfig(port, seedPort, postgres, hostsWorkflows: true, recover)));
        DurableCluster.Start(system, registry);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task;
        Console.WriteLine("UP");
        await system.WhenTerminated;
        return 0;
    }

    private static Config NodeConfig(int port, int seedPort, string postgres, bool hostsWorkflows, bool recover = false) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = ERROR
        akka.stdout-loglevel = OFF
        akka.log-dead-letters = off
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
        akka.cluster.seed-nodes = ["akka.tcp://bench@127.0.0.1:{{seedPort}}"]
        akka.cluster.roles = [{{(hostsWorkflows ? "workflows" : "client")}}]
        akka.cluster.min-nr-of-members = 3
        durable-actors.sql.connection-string = "{{postgres.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}}"
        durable-actors.recover-on-start = {{(recover ? "on" : "off")}}
        {{Environment.GetEnvironmentVariable("DURABLE_BENCH_CLUSTER_HOCON")}}
        """);

    private static Process Spawn(int port, int seedPort, string postgres, bool recover = false)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(typeof(ClusterBench).Assembly.Location);
        foreach (var arg in new[] { "--child", "cluster-node", "--count", $"{port}", "--steps", $"{seedPort}", "--db", postgres, "--kill-at", recover ? "1" : "0" })
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

    private static string Row(string name, List<double> values, string format)
    {
        var sorted = values.Order().ToArray();
        string F(double v) => v.ToString(format, CultureInfo.InvariantCulture);
        return $"| {name} | {F(sorted[sorted.Length / 2])} | {F(sorted[0])} | {F(sorted[^1])} |";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
