using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// The CLI against a cluster, as a user runs it: two real <c>serve --cluster</c> node processes on one PostgreSQL
/// database, and the real CLI as child processes. The commands that send join as a proxy-only member and leave
/// gracefully (a member in this test process watches the membership); the read-only ones read PostgreSQL.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterCliSpec : IAsyncLifetime, IDisposable
{
    private const string Approve = """{"approved": true, "by": "grace"}""";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder = new();
    private readonly List<Node> _nodes = [];
    private ActorSystem? _observer;
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        if (_observer is not null)
            await _observer.Terminate().WaitAsync(Timeout);
        foreach (var node in Enumerable.Reverse(_nodes))
            node.Dispose();
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task StartSignalCancel_JoinAndLeaveGracefully_StatusHistoryListReadTheResults()
    {
        var queues = _folder.File("queues.conf");
        await File.WriteAllTextAsync(queues, "durable-actors.queues.onboard { concurrency = 1 }");
        var ports = new[] { ClusterNodes.FreePort(), ClusterNodes.FreePort() };
        foreach (var port in ports)
            _nodes.Add(Node.Start(_folder.Path, port, ports[0], _postgres, queues));
        await Task.WhenAll(_nodes.Select(n => n.Up)).WaitAsync(Timeout);
        // A member of this process that watches the membership while the CLI comes and goes.
        var (observer, _) = await ClusterNodes.StartAsync(_postgres, ClusterNodes.FreePort(), ports[0], new WorkflowRegistry(), hostsWorkflows: false,
            extraHocon: await File.ReadAllTextAsync(queues));
        _observer = observer;
        var events = new ConcurrentQueue<ClusterEvent.IClusterDomainEvent>();
        Akka.Cluster.Cluster.Get(observer).Subscribe(
            observer.ActorOf(Props.Create(() => new Recorder(events))), ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));
        await Until(() => Akka.Cluster.Cluster.Get(observer).State.Members.Count(m => m.Status == MemberStatus.Up) == 3, "two nodes and the observer up");
        var members = Akka.Cluster.Cluster.Get(observer).State.Members.Select(m => m.Address).ToHashSet();
        var seed = $"127.0.0.1:{ports[0].ToString(CultureInfo.InvariantCulture)}";
        var second = $"127.0.0.1:{ports[1].ToString(CultureInfo.InvariantCulture)}";

        // Two CLI members at once, through either node: the onboarding sample runs to its end, the approvals wait.
        var starts = await Task.WhenAll(
            RunAsync("start", "hire-1", "--postgres", _postgres, "--seed", seed),
            RunAsync("start", "exp-1", "exp-2", "--type", "approval", "--postgres", _postgres, "--seed", second));
        Assert.True(starts[0].ExitCode == 0, starts[0].ToString());
        Assert.StartsWith("workflow hire-1 completed: {\"employeeId\":\"EMP-", Assert.Single(starts[0].StdoutLines));
        Assert.True(starts[1].ExitCode == 3, starts[1].ToString());
        Assert.All(starts[1].StdoutLines, l => Assert.Matches(@"^exp-[12] waiting: waiting for signal 'decision' until ", l));
        Assert.Empty(starts[0].Stderr + starts[1].Stderr);

        var sent = await Task.WhenAll(
            RunAsync("signal", "exp-1", "decision", "--payload", Approve, "--postgres", _postgres, "--seed", seed),
            RunAsync("cancel", "exp-2", "--reason", "duplicate claim", "--postgres", _postgres, "--seed", second),
            RunAsync("resume", "hire-1", "--postgres", _postgres, "--seed", seed, "--seed", second));
        Assert.True(sent[0].ExitCode == 0, sent[0].ToString());
        Assert.Equal(
            ["signal 'decision' delivered to workflow exp-1", "workflow exp-1 completed: \"paid 120.50 to Ada Lovelace, approved by grace\""],
            sent[0].StdoutLines);
        Assert.True(sent[1].ExitCode == 0, sent[1].ToString());
        Assert.Equal(["cancellation of workflow exp-2 requested", "workflow exp-2 cancelled: duplicate claim"], sent[1].StdoutLines);
        // A completed workflow resumed: its recorded result, nothing runs again.
        Assert.True(sent[2].ExitCode == 0, sent[2].ToString());
        Assert.Equal(starts[0].StdoutLines, sent[2].StdoutLines);
        Assert.Empty(string.Concat(sent.Select(r => r.Stderr)));

        // Queues and schedules: two onboardings enqueued on the queue that the nodes' --config declares (the CLI joins
        // to enqueue, the cluster's dispatcher admits them one at a time); a schedule created, triggered (its workflow
        // run as start runs one), listed and deleted.
        var enqueued = await RunAsync("enqueue", "q-1", "q-2", "--queue", "onboard", "--key", "a", "--postgres", _postgres, "--seed", seed, "--config", queues);
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        Assert.Equal(["enqueued q-1 on queue onboard", "enqueued q-2 on queue onboard"], enqueued.StdoutLines);
        await Polling.UntilAsync(async () => await DurableWorkflows.Client(observer).Queues.GetAsync("onboard") is { Enqueued: 0, Running: 0 }, "the queue empty", Timeout);
        Assert.Equal(WorkflowRunStatus.Completed, (await DurableWorkflows.GetStatusAsync(observer, "q-2"))!.Status);
        var shown = await RunAsync("queue", "show", "onboard", "--postgres", _postgres, "--config", queues);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal(["queue onboard: concurrency 1", "0 enqueued, 0 running"], shown.StdoutLines);
        var created = await RunAsync("schedule", "create", "nightly", "--cron", "0 2 * * *", "--postgres", _postgres);
        Assert.True(created.ExitCode == 0, created.ToString());
        var triggered = await RunAsync("schedule", "trigger", "nightly", "--postgres", _postgres, "--seed", second);
        Assert.True(triggered.ExitCode == 0, triggered.ToString());
        Assert.Matches(@"^workflow nightly@\S+ completed: \{""employeeId"":""EMP-", Assert.Single(triggered.StdoutLines));
        var schedules = await RunAsync("schedule", "list", "--postgres", _postgres);
        Assert.Matches(@"^nightly\s+cron ""0 2 \* \* \*""\s+onboarding\s+skip\s+active\s", schedules.StdoutLines[1]);
        Assert.Equal(["deleted schedule nightly"], (await RunAsync("schedule", "delete", "nightly", "--postgres", _postgres)).StdoutLines);

        // Read-only: PostgreSQL directly, no --seed.
        var status = await RunAsync("status", "exp-1", "--postgres", _postgres);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.StartsWith("workflow exp-1 (approval) COMPLETED, 2 steps, started ", Assert.Single(status.StdoutLines));
        var json = JsonDocument.Parse((await RunAsync("status", "hire-1", "--postgres", _postgres, "--json")).Stdout).RootElement;
        Assert.Equal("COMPLETED", json.GetProperty("status").GetString());
        Assert.Equal(4, json.GetProperty("stepCount").GetInt32());
        var history = await RunAsync("history", "exp-1", "--postgres", _postgres);
        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Contains(history.StdoutLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^exp-1:1\s+submit-expense\s+COMPLETED\s+1\s"));
        Assert.Contains(history.StdoutLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^exp-1:3\s+pay\s+COMPLETED\s+1\s"));
        var list = await RunAsync("list", "--postgres", _postgres);
        Assert.True(list.ExitCode == 0, list.ToString());
        var rows = list.StdoutLines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(r => r[0], r => (Type: r[1], Status: r[2], Steps: r[3]));
        Assert.Equal(("onboarding", "COMPLETED", "4"), rows["hire-1"]);
        Assert.Equal(("approval", "COMPLETED", "2"), rows["exp-1"]);
        Assert.Equal(("approval", "CANCELLED", "1"), rows["exp-2"]);

        Assert.Equal(("onboarding", "COMPLETED", "4"), rows["q-2"]);

        // Each step ran once, on a node (the CLI hosts no workflow).
        var effects = _nodes.SelectMany(n => n.Effects()).ToList();
        Assert.Equal(effects.Count, effects.Distinct().Count());
        Assert.Equal(4, effects.Count(l => l.StartsWith("hire-1 ", StringComparison.Ordinal)));
        Assert.Equal(["exp-1 pay", "exp-1 submit-expense", "exp-2 submit-expense"], effects.Where(l => l.StartsWith("exp-", StringComparison.Ordinal)).Order());

        // The seven CLI members left: each removed after Exiting (a graceful leave, not a downing), and the nodes and
        // the observer are still the members, all Up. A member that already is Exiting stops its process once the
        // leader confirmed it; another member's failure detector may notice that before the removal reaches it,
        // which Akka reports as expected (an Exiting member is removed without downing, logged at INFO only). No
        // member was found unreachable while Up or Leaving, and none was downed.
        await Until(() => events.OfType<ClusterEvent.MemberRemoved>().Count(e => !members.Contains(e.Member.Address)) == 7, "the seven CLI members removed");
        Assert.All(events.OfType<ClusterEvent.MemberRemoved>(), e => Assert.Equal(MemberStatus.Exiting, e.PreviousStatus));
        Assert.All(events.OfType<ClusterEvent.MemberRemoved>(), e => Assert.Contains("cli", e.Member.Roles));
        Assert.All(events.OfType<ClusterEvent.UnreachableMember>(), e => Assert.Equal(MemberStatus.Exiting, e.Member.Status));
        Assert.Empty(events.OfType<ClusterEvent.MemberDowned>());
        var state = Akka.Cluster.Cluster.Get(observer).State;
        Assert.Equal(members, state.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address).ToHashSet());
        Assert.Equal(3, state.Members.Count);
        Assert.Empty(state.Unreachable);
        Assert.All(_nodes, n => Assert.DoesNotContain("Marking node(s) as UNREACHABLE", n.Log, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadInput_OneLineExitTwo_NothingStarted()
    {
        var nobody = $"127.0.0.1:{ClusterNodes.FreePort().ToString(CultureInfo.InvariantCulture)}";
        var deadPort = ClusterNodes.FreePort().ToString(CultureInfo.InvariantCulture);
        var deadPostgres = $"Host=127.0.0.1;Port={deadPort};Username=postgres;Database=durable";
        // A port in use: PostgreSQL's own.
        var postgresPort = new Npgsql.NpgsqlConnectionStringBuilder(_postgres).Port.ToString(CultureInfo.InvariantCulture);
        var missing = _folder.File("missing.conf");
        var broken = _folder.File("broken.conf");
        await File.WriteAllTextAsync(broken, "akka.cluster.roles = ${no-such-key}");
        string[][] cases =
        [
            ["start", "wf-1", "--postgres", _postgres],
            ["signal", "wf-1", "decision", "--postgres", _postgres],
            ["status", "wf-1", "--postgres", _postgres, "--db", _folder.Database],
            ["start", "wf-1", "--seed", nobody],
            ["list", "--postgres", deadPostgres],
            ["start", "wf-1", "--postgres", deadPostgres, "--seed", nobody],
            ["start", "wf-1", "--postgres", _postgres, "--seed", nobody, "--join-timeout", "3s"],
            ["cancel", "nobody", "--postgres", _postgres, "--seed", nobody],
            ["resume", "nobody", "--postgres", _postgres, "--seed", nobody, "--port", postgresPort],
            ["list", "--config", missing],
            ["start", "wf-1", "--postgres", _postgres, "--seed", nobody, "--config", missing],
            ["status", "wf-1", "--postgres", _postgres, "--config", broken],
        ];
        string[] expected =
        [
            "error: start on a cluster needs --seed host:port",
            "error: signal on a cluster needs --seed host:port",
            "error: --db cannot be used with --postgres",
            "error: --seed needs --postgres <connection string>",
            $"error: PostgreSQL at 127.0.0.1:{deadPort} is unreachable",
            $"error: PostgreSQL at 127.0.0.1:{deadPort} is unreachable",
            $"error: no node of the cluster answered at akka.tcp://durable@{nobody} within 3 s",
            "error: unknown workflow 'nobody' in PostgreSQL database",
            $"error: cannot listen on 127.0.0.1:{postgresPort} (--hostname, --port): ",
            "error: --config needs --postgres <connection string>",
            $"error: --config '{missing}' does not exist",
            $"error: --config '{broken}' is not valid HOCON",
        ];

        var runs = await Task.WhenAll(cases.Select(c => RunAsync(c)));

        for (var i = 0; i < cases.Length; i++)
        {
            Assert.True(runs[i].ExitCode == 2, $"{string.Join(' ', cases[i])}: {runs[i]}");
            Assert.StartsWith(expected[i], Assert.Single(runs[i].StderrLines));
            Assert.Empty(runs[i].Stdout);
        }
        // Nothing was started: not by the start whose seed did not answer (it sends only once it joined).
        var status = await RunAsync("status", "wf-1", "--postgres", _postgres);
        Assert.True(status.ExitCode == 2, status.ToString());
        Assert.StartsWith("error: unknown workflow 'wf-1' in PostgreSQL database 'test_", Assert.Single(status.StderrLines));
        Assert.False(File.Exists(_folder.Database));
    }

    [Fact]
    public async Task Config_TheNodesHoconFile_ReachesNodesOfAnotherRole()
    {
        // The nodes of an application of its own host workflows under the role "billing"; the CLI gets their file.
        var settings = _folder.File("billing.conf");
        await File.WriteAllTextAsync(settings, """
            akka.cluster.roles = ["billing"]
            akka.cluster.split-brain-resolver.keep-majority.role = "billing"
            durable-actors.cluster.role = "billing"
            """);
        var port = ClusterNodes.FreePort();
        var registry = Durable.Actors.Samples.Onboarding.SampleWorkflows.Register(new WorkflowRegistry(), new Durable.Actors.Samples.Onboarding.EffectsLog(_folder.File("effects.log")));
        var (node, _) = await ClusterNodes.StartAsync(_postgres, port, port, registry, extraHocon: await File.ReadAllTextAsync(settings));
        _observer = node;
        Assert.Contains("billing", Akka.Cluster.Cluster.Get(node).SelfRoles);

        var seed = $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var start = await RunAsync("start", "hire-1", "--postgres", _postgres, "--seed", seed, "--config", settings);
        Assert.True(start.ExitCode == 0, start.ToString());
        var status = await RunAsync("status", "hire-1", "--postgres", _postgres, "--config", settings, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("COMPLETED", JsonDocument.Parse(status.Stdout).RootElement.GetProperty("status").GetString());
    }

    private Task<CliResult> RunAsync(params string[] args) => TestSupport.Cli.RunAsync(_folder.Path, args);

    private async Task Until(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > Timeout)
                throw new TimeoutException($"not reached within {Timeout.TotalSeconds} s: {what}\n{string.Join('\n', _nodes.Select(n => n.Log))}");
            await Task.Delay(100);
        }
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(ConcurrentQueue<ClusterEvent.IClusterDomainEvent> events) => Receive<ClusterEvent.IClusterDomainEvent>(events.Enqueue);
    }

    /// <summary>A <c>serve --cluster</c> node process with an effects log of its own; its stderr is kept.</summary>
    private sealed class Node : IDisposable
    {
        private readonly Process _process;
        private readonly string _effects;
        private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _stderr = new();

        private Node(Process process, string effects)
        {
            _process = process;
            _effects = effects;
        }

        public Task Up => _up.Task;

        public string Log => $"--- node {_effects}:\n" + string.Join('\n', _stderr);

        public static Node Start(string folder, int port, int seedPort, string postgres, string config)
        {
            var effects = Path.Combine(folder, $"effects-{port.ToString(CultureInfo.InvariantCulture)}.log");
            var process = TestSupport.Cli.Start(folder, "serve", "--cluster", "--port", port.ToString(CultureInfo.InvariantCulture),
                "--seed", $"127.0.0.1:{seedPort.ToString(CultureInfo.InvariantCulture)}", "--postgres", postgres, "--effects", effects, "--min-nodes", "2",
                "--config", config);
            var node = new Node(process, effects);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("is up", StringComparison.Ordinal) == true)
                    node._up.TrySetResult();
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                    node._stderr.Enqueue(line);
            };
            process.Exited += (_, _) => node._up.TrySetException(new InvalidOperationException($"node {port} exited:\n{node.Log}"));
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return node;
        }

        public string[] Effects() => File.Exists(_effects) ? File.ReadAllLines(_effects) : [];

        public void Dispose()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit(10_000);
            _process.Dispose();
        }
    }
}
