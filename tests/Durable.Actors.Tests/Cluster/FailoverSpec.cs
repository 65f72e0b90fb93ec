using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// Three real node processes (<c>serve --cluster</c>) on one PostgreSQL database and a few hundred workflows: reports of
/// several steps, approvals that sleep until their signal wait times out, approvals signalled while the cluster fails
/// over, and reports enqueued on a queue of key concurrency 1. One node is killed with SIGKILL mid-run (the oldest,
/// which also runs the queue's dispatcher); every workflow completes on the survivors, no completed step runs again,
/// no signal is lost, and no two workflows of a key ever ran at once.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class FailoverSpec(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const int Reports = 200;
    private const int Sleepers = 50;
    private const int Signalled = 50;
    private const int Sections = 5;
    private const int Queued = 18;
    private const string Queue = "durable-actors.queues.reports { concurrency = 4, key-concurrency = 1 }";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(150);

    private readonly TempFolder _folder = new();
    private readonly List<Node> _nodes = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _clientLog = new();
    private ActorSystem? _client;
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        if (_client is not null)
            await _client.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        if (Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_CLUSTER_LOGS") is { Length: > 0 } logs && _client is not null)
        {
            Directory.CreateDirectory(logs);
            File.WriteAllLines(Path.Combine(logs, $"client-{Akka.Cluster.Cluster.Get(_client).SelfAddress.Port}.log"), _clientLog);
        }
        foreach (var node in _nodes)
            node.Dispose();
    }

    public void Dispose() => _folder.Dispose();

    // The oldest node, which also hosts the shard coordinator: a cluster singleton that moves to the next oldest node,
    // which must then place the lost node's buckets without waiting for its region. A lost node that is not the
    // coordinator's takes the same path for its buckets with the coordinator staying (ChildEndSpec kills the youngest
    // node); killing the youngest here too doubled this spec's minute of CI time.
    [Fact]
    public async Task OldestNodeKilledMidRun_EveryWorkflowCompletesOnTheSurvivors_NoCompletedStepRunsAgain_NoSignalLost()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => ClusterNodes.FreePort()).ToArray();
        foreach (var port in ports)
            _nodes.Add(Node.Start(_folder.Path, port, ports[0], _postgres, await NodeConfigAsync()));
        await Until(() => _nodes.All(n => n.Up.IsCompletedSuccessfully), "three nodes up");
        // The test's member takes part in the split-brain resolver like any other (it may be the leader that decides),
        // so it gets the nodes' configuration too.
        var logs = Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_CLUSTER_LOGS");
        var config = await File.ReadAllTextAsync(await NodeConfigAsync());
        var (client, _) = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), ports[0], new WorkflowRegistry(), hostsWorkflows: false,
            extraHocon: config + (logs is { Length: > 0 } ? "\nakka.loglevel = INFO" : ""));
        _client = client;
        if (logs is { Length: > 0 })
            client.EventStream.Subscribe(client.ActorOf(Props.Create(() => new LogKeeper(_clientLog))), typeof(Akka.Event.LogEvent));
        var workflows = DurableWorkflows.Client(client);
        // Each node hosts its share of the buckets before the workflows start (as the cluster's own placement spreads
        // them), so that the victim has workflows to lose.
        var firstRegion = client.ActorSelection($"{ClusterNodes.Address(ports[0])}/system/sharding/{Durable.Actors.Cluster.DurableCluster.TypeName}");
        await Until(async () =>
        {
            try
            {
                var stats = await firstRegion.Ask<Akka.Cluster.Sharding.ClusterShardingStats>(
                    new Akka.Cluster.Sharding.GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
                return stats.Regions.Count == 3 && stats.Regions.Values.All(r => r.Stats.Count >= 8);
            }
            catch (AskTimeoutException)
            {
                return false;
            }
        }, "every node hosts 8 buckets or more");

        var starts = new List<Task>();
        for (var i = 0; i < Reports; i++)
            starts.Add(workflows.StartAsync<ReportRequest, int>("report", $"report-{i}", new ReportRequest(Sections, WorkMilliseconds: 300)));
        for (var i = 0; i < Sleepers; i++)
            starts.Add(workflows.StartAsync<ExpenseRequest, string>("approval", $"sleeper-{i}", new ExpenseRequest(10, "ada", TimeSpan.FromSeconds(20))));
        for (var i = 0; i < Signalled; i++)
            starts.Add(workflows.StartAsync<ExpenseRequest, string>("approval", $"signalled-{i}", new ExpenseRequest(10, "ada", TimeSpan.FromDays(1))));
        // Three keys of six reports each, one at a time per key: the kill cuts one of a key short (or its admission).
        for (var i = 0; i < Queued; i++)
            starts.Add(workflows.EnqueueAsync<ReportRequest, int>("report", $"queued-{i}", new ReportRequest(3, WorkMilliseconds: 300),
                new EnqueueOptions("reports") { Key = $"k{i % 3}" }));
        await Task.WhenAll(starts).WaitAsync(Timeout);

        // The victim, killed mid-run: it has run steps of its own workflows, and many steps are still to run.
        var chosen = Akka.Cluster.Cluster.Get(client).State.Members
            .Where(m => m.HasRole("workflows"))
            .Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
        var victim = _nodes.Single(n => n.Port == chosen.Address.Port);
        await Until(() => victim.Effects().Length >= 40, "the victim node ran 40 steps");
        var seenBefore = _nodes.ToDictionary(n => n, n => n.Effects().Length);
        var lost = victim.Effects().Select(l => l.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        var queuedBefore = (await DurableWorkflows.ListAsync(client, new WorkflowQuery { IdPrefix = "queued-", Status = WorkflowRunStatus.Completed })).Items.Count;
        var clock = Stopwatch.StartNew();
        output.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} SIGKILL the oldest node, {victim.Port} ({queuedBefore} of {Queued} queued reports ended)");
        victim.Kill();

        // Signals sent during the failover: the region keeps those for the lost node's buckets until they start again.
        var signals = Enumerable.Range(0, Signalled).Select(i =>
            workflows.GetHandle<string>($"signalled-{i}").SignalAsync("decision", new ExpenseDecision(true, "grace"))).ToList();

        // Failover time: from the kill until a survivor runs a step of a workflow the victim was running.
        var survivors = _nodes.Where(n => n != victim).ToList();
        await Until(() => survivors.Any(n => n.Effects().Skip(seenBefore[n]).Any(l => lost.Contains(l.Split(' ')[0]))), "a lost workflow resumed on a survivor");
        var failover = clock.Elapsed;
        output.WriteLine($"failover: {failover.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s from SIGKILL until a lost workflow ran a step on a survivor ({lost.Count} workflows had run steps on the victim)");

        await Task.WhenAll(signals).WaitAsync(Timeout);
        var total = Reports + Sleepers + Signalled + Queued;
        IReadOnlyList<WorkflowSummary> completed = [];
        await Until(async () =>
        {
            completed = (await DurableWorkflows.ListAsync(client, new WorkflowQuery { Status = WorkflowRunStatus.Completed, Limit = WorkflowQuery.MaxLimit })).Items;
            return completed.Count == total;
        }, $"all {total} workflows completed");
        output.WriteLine($"all {total} completed {clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s after the kill");

        // Results: every report summed its sections, every signal arrived, every sleeper woke and escalated.
        var effects = _nodes.SelectMany(n => n.Effects()).GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var reran = 0;
        foreach (var summary in completed)
        {
            var status = (await DurableWorkflows.GetStatusAsync(client, summary.WorkflowId))!;
            var expected = summary.WorkflowId switch
            {
                var id when id.StartsWith("report-", StringComparison.Ordinal) => "55",
                var id when id.StartsWith("queued-", StringComparison.Ordinal) => "14",
                var id when id.StartsWith("sleeper-", StringComparison.Ordinal) => "\"escalated\"",
                _ => "\"paid 10 to ada, approved by grace\"",
            };
            Assert.Equal(expected, status.ResultJson);
            foreach (var step in status.Steps)
            {
                // A step ran once, or again only as a recorded new attempt because the kill cut its first run short.
                var ran = effects.GetValueOrDefault($"{summary.WorkflowId} {step.StepId}");
                Assert.True(ran >= 1 && ran <= step.Attempts, $"{summary.WorkflowId} {step.StepId} ran {ran} times in {step.Attempts} attempts");
                if (step.Attempts > 1)
                {
                    reran++;
                    // Only the victim's steps, and only because the cluster removed it (the stale timeout is 10 minutes).
                    Assert.All(step.Failures, f => Assert.Contains(
                        $"left by node {ClusterNodes.Address(victim.Port)}#", f.Error, StringComparison.Ordinal));
                    Assert.All(step.Failures, f => Assert.Contains("which the cluster has removed", f.Error, StringComparison.Ordinal));
                }
            }
        }
        output.WriteLine($"{reran} steps cut short by the kill ran again as new attempts");

        // The queue's key concurrency held across the kill: per key, the runs (first step's start to last step's end,
        // from the journal) never overlap.
        var runs = new List<(string Key, string Id, DateTimeOffset From, DateTimeOffset To)>();
        for (var i = 0; i < Queued; i++)
        {
            var steps = (await DurableWorkflows.GetStatusAsync(client, $"queued-{i}"))!.Steps;
            runs.Add(($"k{i % 3}", $"queued-{i}", steps.Min(s => s.StartedAt), steps.Max(s => s.EndedAt!.Value)));
        }
        foreach (var key in runs.GroupBy(r => r.Key))
        {
            var ordered = key.OrderBy(r => r.From).ToList();
            for (var i = 1; i < ordered.Count; i++)
                Assert.True(ordered[i].From >= ordered[i - 1].To, $"{ordered[i].Id} began before {ordered[i - 1].Id} of key {key.Key} ended");
        }

        // After the failover, a member that joins anew (its shard region knows no bucket's home yet) starts workflows in
        // every bucket: they complete, and each bucket runs on exactly one node.
        var (late, _) = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), survivors[0].Port, new WorkflowRegistry(), hostsWorkflows: false,
            extraHocon: config);
        try
        {
            var lateClient = DurableWorkflows.Client(late);
            var buckets = new Durable.Actors.Cluster.Buckets(32);
            var ids = Enumerable.Range(0, 1000).Select(i => $"late-{i}").GroupBy(buckets.Of).Select(g => g.First()).ToList();
            Assert.Equal(32, ids.Count);
            var handles = await Task.WhenAll(ids.Select(id =>
                lateClient.StartAsync<ReportRequest, int>("report", id, new ReportRequest(1, WorkMilliseconds: 0)))).WaitAsync(Timeout);
            Assert.All(await Task.WhenAll(handles.Select(h => h.GetResultAsync())).WaitAsync(Timeout), r => Assert.Equal(1, r));
            // Each survivor's shard region says which buckets it runs. A shard too busy to answer in time is listed as
            // failed: it runs there all the same, and a bucket is its own shard, so its id is the bucket's.
            var survivorAddresses = survivors.Select(n => ClusterNodes.Address(n.Port)).ToList();
            var states = await Task.WhenAll(survivorAddresses.Select(address => late.ActorSelection($"{address}/system/sharding/{Durable.Actors.Cluster.DurableCluster.TypeName}")
                .Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(30))));
            var hosts = survivorAddresses.Zip(states)
                .SelectMany(x => x.Item2.Shards.SelectMany(shard => shard.EntityIds).Concat(x.Item2.Failed).Select(bucket => (bucket, node: x.Item1)))
                .ToLookup(x => x.bucket, x => x.node);
            Assert.All(hosts, bucket => Assert.True(bucket.Count() == 1, $"bucket {bucket.Key} runs on {string.Join(", ", bucket)}"));
            Assert.Equal(32, hosts.Count);
        }
        finally
        {
            await late.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// Every member's HOCON: the queue, and for measuring other split-brain resolver timings the file of
    /// <c>DURABLE_ACTORS_TEST_CLUSTER_CONFIG</c>.
    /// </summary>
    private async Task<string> NodeConfigAsync()
    {
        var path = Path.Combine(_folder.Path, "nodes.conf");
        if (!File.Exists(path))
        {
            var extra = Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_CLUSTER_CONFIG") is { Length: > 0 } file ? await File.ReadAllTextAsync(file) : "";
            await File.WriteAllTextAsync(path, Queue + "\n" + extra);
        }
        return path;
    }

    private async Task Until(Func<bool> condition, string what) => await Until(() => Task.FromResult(condition()), what);

    private async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Timeout)
                throw new TimeoutException($"not reached within {Timeout.TotalSeconds} s: {what}\n{string.Join('\n', _nodes.Select(n => n.Log))}");
            await Task.Delay(250);
        }
    }

    /// <summary>Keeps the test's own member's log (it may be the cluster's leader, which takes the resolver's decisions).</summary>
    private sealed class LogKeeper : ReceiveActor
    {
        public LogKeeper(System.Collections.Concurrent.ConcurrentQueue<string> lines) =>
            Receive<Akka.Event.LogEvent>(e => lines.Enqueue(
                $"{e.Timestamp.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} [{e.LogLevel()}] {e.Message}"));
    }

    /// <summary>A node process: <c>serve --cluster</c> with an effects log of its own (appends from several processes to one file lose lines).</summary>
    private sealed class Node : IDisposable
    {
        private readonly Process _process;
        private readonly string _effects;
        private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _stderr = new();

        /// <summary>What the node logged (warnings and errors), to explain a failure.</summary>
        public string Log => $"--- node {_effects}:\n" + string.Join('\n', _stderr.TakeLast(30));

        private Node(Process process, string effects, int port)
        {
            _process = process;
            _effects = effects;
            Port = port;
        }

        public int Port { get; }

        public Task Up => _up.Task;

        public static Node Start(string folder, int port, int seedPort, string postgres, string config)
        {
            var effects = Path.Combine(folder, $"effects-{port}.log");
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
                     {
                         Path.Combine(AppContext.BaseDirectory, "Durable.Actors.Cli.dll"), "serve", "--cluster",
                         "--port", port.ToString(CultureInfo.InvariantCulture), "--seed", $"127.0.0.1:{seedPort}",
                         "--postgres", postgres, "--effects", effects,
                         // Far longer than the test: only the cluster's membership may run a step again.
                         "--stale-timeout", "10m",
                         "--min-nodes", "3",
                     })
                start.ArgumentList.Add(arg);
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(config);
            // For measuring where failover time goes: Akka's cluster log of every node, kept in this folder.
            var logs = Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_CLUSTER_LOGS");
            if (logs is { Length: > 0 })
                start.ArgumentList.Add("--verbose");
            var node = new Node(Process.Start(start)!, effects, port);
            node._process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("is up", StringComparison.Ordinal) == true)
                    node._up.TrySetResult();
            };
            node._process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                    node._stderr.Enqueue(DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) + " " + line);
            };
            node._process.Exited += (_, _) => node._up.TrySetException(new InvalidOperationException($"node {port} exited"));
            node._process.EnableRaisingEvents = true;
            node._process.BeginOutputReadLine();
            node._process.BeginErrorReadLine();
            return node;
        }

        public string[] Effects()
        {
            try
            {
                using var stream = new FileStream(_effects, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                // A line is complete once its newline is written.
                var text = reader.ReadToEnd();
                var end = text.LastIndexOf('\n');
                return end < 0 ? [] : text[..end].Split('\n');
            }
            catch (FileNotFoundException)
            {
                return [];
            }
        }

        /// <summary>SIGKILL: the process dies at once, whatever it was doing.</summary>
        public void Kill() => _process.Kill();

        public void Dispose()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit(10_000);
            if (Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_CLUSTER_LOGS") is { Length: > 0 } logs)
            {
                Directory.CreateDirectory(logs);
                File.WriteAllLines(Path.Combine(logs, $"node-{Port}.log"), _stderr);
            }
            _process.Dispose();
        }
    }
}
