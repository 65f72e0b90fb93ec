using System.CommandLine;
using Durable.Actors.Cli.Targets;

namespace Durable.Actors.Cli.Verbs;

/// <summary>The options several verbs share, and the store (<c>--db</c> or a cluster) a parse result names.</summary>
internal sealed class CliOptions
{
    public Option<string> Db { get; } = new("--db") { Description = "The SQLite database file", DefaultValueFactory = _ => "durable.db" };
    public Option<string?> Effects { get; } = new("--effects") { Description = "The sample's effects log (default: effects.log beside the database)" };
    public Option<string?> StaleTimeout { get; } = new("--stale-timeout") { Description = "Age after which an IN_PROGRESS step is a zombie to run again, e.g. 0s, 30s, 5m (default: the configured one)" };
    public Option<string?> BusyTimeout { get; } = new("--busy-timeout") { Description = "How long to wait on a database locked by another process before a write fails, e.g. 500ms, 5s (default: the configured one)" };
    public Option<bool> AllowForeign { get; } = new("--allow-foreign-database") { Description = "Add the journal tables to a database that already has tables of another application (refused otherwise)" };
    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON for scripts" };

    public Option<string> Type { get; } = new("--type")
    {
        Description = $"The registered workflow type to start: {string.Join(", ", StartVerb.WorkflowTypes())}. An existing id keeps its recorded type and input",
        DefaultValueFactory = _ => "onboarding",
    };

    public Option<string[]> Where { get; } = new("--where")
    {
        Description = "Only workflows whose custom attribute meets this: name=value, name<value, name<=value, name>value or name>=value "
            + "(a number, true/false, an ISO time such as 2026-12-01T00:00:00Z, a text; \"42\" in quotes is a text); repeat it for several",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The attribute filters of <see cref="Where"/>; throws <see cref="UsageException"/> naming one that is not valid.</summary>
    public IReadOnlyList<AttributeFilter> Filters(ParseResult r) => (r.GetValue(Where) ?? []).Select(text =>
    {
        try
        {
            return AttributeFilter.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--where {e.Message}");
        }
    }).ToList();

    public Option<string?> Input { get; } = new("--input") { Description = "The workflow input as JSON (default: the sample's own input for its type)" };

    // A workflow command on a cluster (see src/Durable.Actors.Cluster/README.md): --postgres instead of --db; the
    // commands that send to workflows join the cluster through --seed as a proxy-only member, and leave it before they
    // exit.
    public Option<string?> OnCluster { get; } = new("--postgres") { Description = "Work on a cluster instead of --db: its PostgreSQL connection string, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"" };
    public Option<string[]> JoinSeeds { get; } = new("--seed") { Description = "With --postgres: a node of the cluster to join, as host:port (repeat it for several)", AllowMultipleArgumentsPerToken = false };
    public Option<int> JoinPort { get; } = new("--port") { Description = "With --postgres: this process's TCP port while it is a member of the cluster (0: any free port)", DefaultValueFactory = _ => 0 };
    public Option<string> JoinHostname { get; } = new("--hostname") { Description = "With --postgres: the address the nodes reach this process at", DefaultValueFactory = _ => "127.0.0.1" };
    public Option<string> JoinTimeout { get; } = new("--join-timeout") { Description = "With --postgres: how long to wait for a node at --seed to let this process join, e.g. 30s", DefaultValueFactory = _ => "30s" };
    public Option<string?> OnClusterConfig { get; } = new("--config") { Description = "With --postgres: the HOCON file the nodes were started with (serve --cluster --config): every member must have the same split-brain resolver settings" };

    /// <summary>Adds the options of a command that sends to workflows on a cluster: <c>--postgres</c> and how to join it.</summary>
    public void AddClusterJoin(Command command)
    {
        foreach (var option in new Option[] { OnCluster, JoinSeeds, JoinHostname, JoinPort, JoinTimeout, OnClusterConfig })
            command.Options.Add(option);
    }

    /// <summary>The store of a command that reads only (status, history, list).</summary>
    public StoreOptions Reads(ParseResult r) =>
        new(r.GetValue(Db)!, r.GetValue(OnCluster), Given(r, Db), Given(r, OnClusterConfig), r.GetValue(OnClusterConfig));

    /// <summary>The store of a command that sends to workflows (joins a cluster); <paramref name="sqliteOnly"/> are refused with <c>--postgres</c>.</summary>
    public StoreOptions Sends(ParseResult r, params Option[] sqliteOnly) => new(
        r.GetValue(Db)!, r.GetValue(OnCluster), Given(r, [Db, .. sqliteOnly]), Given(r, JoinSeeds, JoinPort, JoinHostname, JoinTimeout, OnClusterConfig), r.GetValue(OnClusterConfig),
        new ClusterJoinOptions(r.GetValue(JoinSeeds) ?? [], r.GetValue(JoinHostname)!, r.GetValue(JoinPort), r.GetValue(JoinTimeout)!));

    /// <summary>
    /// The store of a queue command, whose <paramref name="config"/> declares the queues and, on a cluster, is the nodes'
    /// file; with <paramref name="joins"/> the options to join the cluster (<c>enqueue</c>), else it reads only.
    /// </summary>
    public StoreOptions Queues(ParseResult r, Option<string?> config, bool joins) => new(
        r.GetValue(Db)!, r.GetValue(OnCluster), Given(r, Db), joins ? Given(r, JoinSeeds, JoinPort, JoinHostname, JoinTimeout) : [], r.GetValue(config),
        joins ? new ClusterJoinOptions(r.GetValue(JoinSeeds) ?? [], r.GetValue(JoinHostname)!, r.GetValue(JoinPort), r.GetValue(JoinTimeout)!) : null);

    /// <summary>The names of <paramref name="options"/> given explicitly on the command line.</summary>
    private static string[] Given(ParseResult r, params Option[] options) =>
        options.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();

    public static Argument<string> WorkflowId() => new("workflowId") { Description = "The workflow's id" };
}
