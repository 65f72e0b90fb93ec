using System.CommandLine;
using System.Globalization;
using Akka.Configuration;
using Durable.Actors.Cli.Hosting;
using Durable.Actors.Cli.Output;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Configuration;
using Durable.Actors.Queues;
using Durable.Actors.Storage;

namespace Durable.Actors.Cli.Verbs;

/// <summary>
/// <c>enqueue</c>: enqueues workflows on a queue of the SQLite file (durable, ENQUEUED, none of their code runs here);
/// a host that stays on the file (<c>serve</c> with the same <c>--config</c>) admits them as the queue's limits allow.
/// With <c>--postgres</c> and <c>--seed</c>, on a cluster: the CLI joins it as a member and the cluster's dispatcher
/// admits them. <c>queue list|show</c>: how the queues stand. Queues are declared in the HOCON file of <c>--config</c>
/// (<c>durable-actors.queues.&lt;name&gt; { ... }</c>; on a cluster, the file the nodes were started with).
/// </summary>
internal static class QueueVerb
{
    private static Option<string?> Config() => new("--config") { Description = "The HOCON file that declares the queues (durable-actors.queues.<name> { concurrency = 2, key-concurrency = 1 })" };

    public static Command CreateEnqueue(CliOptions o)
    {
        var ids = new Argument<string[]>("workflowId") { Description = "The ids of the workflows to enqueue, in this order", Arity = ArgumentArity.OneOrMore };
        var queue = new Option<string>("--queue") { Description = "The queue, declared in --config", Required = true };
        var key = new Option<string?>("--key") { Description = "The key its per-key limits count by (a customer, a tenant)" };
        var priority = new Option<int>("--priority") { Description = "Lower runs first (0, the default, is the highest)", DefaultValueFactory = _ => 0 };
        var dedup = new Option<string?>("--dedup") { Description = "A deduplication id: while a workflow enqueued with it is enqueued or runs, the enqueue finds that one" };
        var delay = new Option<string?>("--delay") { Description = "Not admitted before this long from now, e.g. 30s, 5m" };
        var timeout = new Option<string?>("--timeout") { Description = "How long each may take from its enqueue, its time in the queue included, e.g. 1h" };
        var config = Config();
        var command = new Command("enqueue", "Enqueue workflows on a queue: durable at once, run by a host on the file (serve) or the cluster when the queue's limits admit them")
        {
            ids, queue, key, priority, dedup, delay, timeout, o.Type, o.Input, o.Db, config,
            o.OnCluster, o.JoinSeeds, o.JoinHostname, o.JoinPort, o.JoinTimeout,
        };
        command.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var settings = Settings(r.GetValue(config));
            var options = new EnqueueOptions(r.GetValue(queue)!)
            {
                Key = r.GetValue(key),
                Priority = r.GetValue(priority),
                DeduplicationId = r.GetValue(dedup),
                Delay = Durations.ParseOptional(r.GetValue(delay), "--delay"),
                Timeout = Durations.ParseOptional(r.GetValue(timeout), "--timeout"),
            };
            // Checked before the file is opened: bad input changes nothing.
            var declared = Declared(settings);
            if (!declared.ContainsKey(options.Queue))
                throw new UsageException($"Unknown queue '{options.Queue}' (declared: {(declared.Count == 0 ? "none: give --config" : string.Join(", ", declared.Keys.Order(StringComparer.Ordinal)))})");
            try
            {
                options.Check();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(Sentence(e.Message));
            }
            var store = o.Queues(r, config, joins: true);
            var type = r.GetValue(o.Type)!;
            if (store.Cluster("enqueue") is { } cluster)
            {
                var target = new ClusterTarget(cluster);
                var registry = target.Registry(null);
                await using var session = await target.OpenAsync(registry, EngineOptions.Default, ct);
                await session.BeginAsync(new ConsoleObserver(crashAfter: null), ct);
                await EnqueueAsync(DurableWorkflows.Client(session.System), r.GetValue(ids)!, type, Input(registry), options, ct);
            }
            else
            {
                var target = SqliteTarget.Of(store.Database, DatabaseUse.Writes(null));
                var registry = target.Registry(null);
                await using var host = CliHost.Create(target.Database, settings: settings);
                DurableWorkflows.Start(host.System, registry);
                await EnqueueAsync(DurableWorkflows.Client(host.System), r.GetValue(ids)!, type, Input(registry), options, ct);
            }
            return ExitCodes.Completed;

            string Input(WorkflowRegistry registry) =>
                r.GetValue(o.Input) ?? Samples.Onboarding.SampleWorkflows.DefaultInput(type, registry.JsonOptions) ?? "null";
        }));
        return command;
    }

    /// <summary>Enqueues each id in turn, printing a line for each; a bad option or a rejected workflow is a one-line error.</summary>
    private static async Task EnqueueAsync(WorkflowClient client, IEnumerable<string> ids, string type, string input, EnqueueOptions options, CancellationToken ct)
    {
        foreach (var id in ids)
        {
            string enqueued;
            try
            {
                enqueued = await client.Queues.EnqueueAsync(type, id, input, options, traceParent: null, ct);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(Sentence(e.Message));
            }
            catch (WorkflowRejectedException e)
            {
                throw new UsageException(e.Reason);
            }
            Console.WriteLine(enqueued == id
                ? $"enqueued {id} on queue {options.Queue}"
                : $"{id} not enqueued: {enqueued} holds deduplication id '{options.DeduplicationId}' on queue {options.Queue}");
        }
    }

    public static Command Create(CliOptions o)
    {
        var command = new Command("queue", "How the queues of the SQLite file or the cluster stand");
        var config = Config();
        var list = new Command("list", "List the declared queues (and any other that holds workflows)") { o.Db, o.OnCluster, config, o.Json };
        list.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var declared = Declared(Settings(r.GetValue(config)));
            var (live, _) = await LiveAsync(o.Queues(r, config, joins: false), "queue list", null, ct);
            var now = DateTimeOffset.UtcNow;
            var names = declared.Keys.Union(live.Select(e => e.Queue)).Order(StringComparer.Ordinal).ToList();
            var infos = names.Select(n => QueueClient.Info(declared.GetValueOrDefault(n) ?? new QueueOptions(n), live.Where(e => e.Queue == n).ToList(), now)).ToList();
            if (r.GetValue(o.Json))
                CliJson.Print(infos.Select(i => View(i, declared.ContainsKey(i.Options.Name))));
            else if (infos.Count == 0)
                Console.WriteLine("no queues");
            else
                Text.PrintTable(["QUEUE", "LIMITS", "ENQUEUED", "RUNNING"], infos.Select(i => new[]
                {
                    i.Options.Name, declared.ContainsKey(i.Options.Name) ? i.Options.Describe() : "not declared", Count(i.Enqueued), Count(i.Running),
                }));
            return ExitCodes.Completed;
        }));
        var name = new Argument<string>("queue") { Description = "The queue's name" };
        var show = new Command("show", "Show one queue: its limits, its workflows running per key, those enqueued in order") { name, o.Db, o.OnCluster, config, o.Json };
        show.SetAction((r, ct) => Guard.RunAsync(async () =>
        {
            var queueName = r.GetValue(name)!;
            var declared = Declared(Settings(r.GetValue(config)));
            var (live, where) = await LiveAsync(o.Queues(r, config, joins: false), "queue show", queueName, ct);
            if (!declared.ContainsKey(queueName) && live.Count == 0)
                throw new UsageException($"unknown queue '{queueName}': not declared in {(r.GetValue(config) is { } file ? $"--config '{Path.GetFullPath(file)}'" : "any --config")} and no workflow of {where} is on it");
            var info = QueueClient.Info(declared.GetValueOrDefault(queueName) ?? new QueueOptions(queueName), live, DateTimeOffset.UtcNow);
            if (r.GetValue(o.Json))
            {
                CliJson.Print(new { queue = View(info, declared.ContainsKey(queueName)), enqueued = live.Where(e => e.AdmittedAt is null).Select(e => e.WorkflowId) });
                return ExitCodes.Completed;
            }
            Console.WriteLine($"queue {queueName}: {(declared.ContainsKey(queueName) ? info.Options.Describe() : "not declared")}");
            Console.WriteLine($"{Count(info.Enqueued)} enqueued, {Count(info.Running)} running" +
                (info.NextNotBefore is { } next ? $"; the next delayed one is due at {Text.Time(next)}" : ""));
            if (info.RunningByKey.Count > 0)
                Console.WriteLine("running per key: " + string.Join(", ", info.RunningByKey.Select(k => $"{k.Key} {Count(k.Value)}")));
            var enqueued = live.Where(e => e.AdmittedAt is null).ToList();
            if (enqueued.Count > 0)
                Text.PrintTable(["ENQUEUED", "KEY", "PRIORITY", "SINCE", "NOT BEFORE"], enqueued.Take(50).Select(e => new[]
                {
                    e.WorkflowId, e.Key ?? "-", Count(e.Priority), Text.Time(e.EnqueuedAt), e.NotBefore is { } nb ? Text.Time(nb) : "-",
                }));
            if (enqueued.Count > 50)
                Console.WriteLine($"... and {Count(enqueued.Count - 50)} more");
            return ExitCodes.Completed;
        }));
        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        return command;
    }

    /// <summary>The HOCON of <c>--config</c>, checked: a queue with a bad limit is a one-line error here.</summary>
    private static Config? Settings(string? file)
    {
        if (file is null)
            return null;
        var config = ClusterNode.ReadConfig(file);
        try
        {
            DurableSettings.Create(config.WithFallback(DurableSettings.Reference));
        }
        catch (ConfigurationException e)
        {
            throw new UsageException($"--config '{Path.GetFullPath(file)}': {Sentence(e.Message)}");
        }
        return config;
    }

    /// <summary>The queues <paramref name="settings"/> declares, by name.</summary>
    private static IReadOnlyDictionary<string, QueueOptions> Declared(Config? settings) => settings is null
        ? new Dictionary<string, QueueOptions>()
        : DurableSettings.Create(settings.WithFallback(DurableSettings.Reference)).Queues;

    /// <summary>The entries that have not ended, of one queue or of all, and how messages name the target; none when the file does not exist.</summary>
    private static async Task<(List<QueueEntry> Entries, string Where)> LiveAsync(StoreOptions store, string command, string? queue, CancellationToken cancellationToken)
    {
        if (FlowTables.Of(store, command, DatabaseUse.Reads) is not { } tables)
            return ([], $"database '{Path.GetFullPath(store.Database)}'");
        return (await Task.Run(() => new QueueStore(tables.Tables).Live(queue), cancellationToken), tables.Description);
    }

    private static object View(QueueInfo info, bool declared) => new
    {
        name = info.Options.Name,
        declared,
        concurrency = info.Options.Concurrency,
        keyConcurrency = info.Options.KeyConcurrency,
        rateLimit = info.Options.RateLimit?.ToString(),
        keyRateLimit = info.Options.KeyRateLimit?.ToString(),
        enqueued = info.Enqueued,
        running = info.Running,
        runningByKey = info.RunningByKey,
        nextNotBefore = info.NextNotBefore,
    };

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Sentence(string message) => message.TrimEnd('.');

}
