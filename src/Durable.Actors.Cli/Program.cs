using System.CommandLine;
using System.CommandLine.Help;
using Durable.Actors.Cli;

var db = new Option<string>("--db") { Description = "The SQLite database file", DefaultValueFactory = _ => "durable.db" };
var effects = new Option<string?>("--effects") { Description = "The sample's effects log (default: effects.log beside the database)" };
var type = new Option<string>("--type")
{
    Description = $"The registered workflow type to start: {string.Join(", ", Commands.WorkflowTypes())}. An existing id keeps its recorded type and input",
    DefaultValueFactory = _ => "onboarding",
};
var input = new Option<string?>("--input") { Description = "The workflow input as JSON (default: the sample's own input for its type)" };
var staleTimeout = new Option<string?>("--stale-timeout") { Description = "Age after which an IN_PROGRESS step is a zombie to run again, e.g. 0s, 30s, 5m (default: the configured one)" };
var busyTimeout = new Option<string?>("--busy-timeout") { Description = "How long to wait on a database locked by another process before a write fails, e.g. 500ms, 5s (default: the configured one)" };
var allowForeign = new Option<bool>("--allow-foreign-database") { Description = "Add the journal tables to a database that already has tables of another application (refused otherwise)" };
var json = new Option<bool>("--json") { Description = "Print JSON for scripts" };
Argument<string> WorkflowId() => new("workflowId") { Description = "The workflow's id" };

// A workflow command on a cluster (see README, "Cluster mode"): --postgres instead of --db; the commands that send to
// workflows join the cluster through --seed as a proxy-only member, and leave it before they exit.
var onCluster = new Option<string?>("--postgres") { Description = "Work on a cluster instead of --db: its PostgreSQL connection string, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"" };
var joinSeeds = new Option<string[]>("--seed") { Description = "With --postgres: a node of the cluster to join, as host:port (repeat it for several)", AllowMultipleArgumentsPerToken = false };
var joinPort = new Option<int>("--port") { Description = "With --postgres: this process's TCP port while it is a member of the cluster (0: any free port)", DefaultValueFactory = _ => 0 };
var joinHostname = new Option<string>("--hostname") { Description = "With --postgres: the address the nodes reach this process at", DefaultValueFactory = _ => "127.0.0.1" };
var joinTimeout = new Option<string>("--join-timeout") { Description = "With --postgres: how long to wait for a node at --seed to let this process join, e.g. 30s", DefaultValueFactory = _ => "30s" };
var onClusterConfig = new Option<string?>("--config") { Description = "With --postgres: the HOCON file the nodes were started with (serve --cluster --config): every member must have the same split-brain resolver settings" };

string[] Given(ParseResult r, params Option[] options) => options.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();

// The store of a command that reads only (status, history, list), and of one that sends to workflows (joins a cluster).
StoreOptions Reads(ParseResult r) => new(r.GetValue(db)!, r.GetValue(onCluster), Given(r, db), Given(r, onClusterConfig), r.GetValue(onClusterConfig));
StoreOptions Sends(ParseResult r, params Option[] sqliteOnly) => new(
    r.GetValue(db)!, r.GetValue(onCluster), Given(r, [db, .. sqliteOnly]), Given(r, joinSeeds, joinPort, joinHostname, joinTimeout, onClusterConfig), r.GetValue(onClusterConfig),
    new ClusterJoinOptions(r.GetValue(joinSeeds) ?? [], r.GetValue(joinHostname)!, r.GetValue(joinPort), r.GetValue(joinTimeout)!));

var startIds = new Argument<string[]>("workflowId") { Description = "The ids of the workflows to run, at once", Arity = ArgumentArity.OneOrMore };
var start = new Command("start", "Run workflows (the onboarding sample by default) to their end; an existing id resumes")
{
    startIds, type, input, db, effects, busyTimeout, allowForeign, onCluster, joinSeeds, joinHostname, joinPort, joinTimeout, onClusterConfig,
};
start.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest(r.GetValue(startIds)!, Sends(r, effects, busyTimeout, allowForeign), r.GetValue(effects), null, r.GetValue(busyTimeout),
        Start: (r.GetValue(type)!, r.GetValue(input)), CrashAfter: null, r.GetValue(allowForeign)), ct));

var resumeId = WorkflowId();
var resume = new Command("resume", "Run an existing workflow again: completed steps replay, the rest run")
{
    resumeId, db, effects, staleTimeout, busyTimeout, onCluster, joinSeeds, joinHostname, joinPort, joinTimeout, onClusterConfig,
};
resume.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest([r.GetValue(resumeId)!], Sends(r, effects, staleTimeout, busyTimeout), r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(busyTimeout),
        Start: null, CrashAfter: null), ct));

var recover = new Command("recover", "Resume every workflow that was started and neither completed nor failed, and exit when they are done") { db, effects, staleTimeout, busyTimeout };
recover.SetAction((r, ct) => Commands.RecoverAsync(r.GetValue(db)!, r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(busyTimeout), ct));

var crashId = WorkflowId();
var crashN = new Argument<int>("N") { Description = "Kill the process right after the N-th step's IN_PROGRESS record is durable, before its body runs" };
var crashAfter = new Command("crash-after", "Start (or resume) a workflow and kill the process at its N-th step") { crashId, crashN, type, input, db, effects, staleTimeout, busyTimeout, allowForeign };
crashAfter.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest([r.GetValue(crashId)!], StoreOptions.Sqlite(r.GetValue(db)!), r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(busyTimeout), Start: (r.GetValue(type)!, r.GetValue(input)), CrashAfter: r.GetValue(crashN), r.GetValue(allowForeign)), ct));

var statusId = WorkflowId();
var status = new Command("status", "Show a workflow's status, read from the journal") { statusId, db, onCluster, onClusterConfig, json };
status.SetAction((r, ct) => Commands.StatusAsync(r.GetValue(statusId)!, Reads(r), r.GetValue(json), ct));

var historyId = WorkflowId();
var history = new Command("history", "Show every step of a workflow: key, step id, status, attempts, times, result") { historyId, db, onCluster, onClusterConfig, json };
history.SetAction((r, ct) => Commands.HistoryAsync(r.GetValue(historyId)!, Reads(r), r.GetValue(json), ct));

var limit = new Option<int>("--limit") { Description = "At most this many workflows (1 to 1000)", DefaultValueFactory = _ => 50 };
var listStatus = new Option<string?>("--status") { Description = $"Only workflows with this status: {Commands.ListStatuses()}" };
var listType = new Option<string?>("--type") { Description = "Only workflows of this type" };
var listPrefix = new Option<string?>("--prefix") { Description = "Only workflows whose id starts with this (case-sensitive), e.g. order- or a parent's id/" };
var after = new Option<string?>("--after") { Description = "The cursor printed at the end of the previous page: list the page after it" };
var list = new Command("list", "List workflows with their status, newest first, one page at a time") { db, onCluster, onClusterConfig, json, limit, listStatus, listType, listPrefix, after };
list.SetAction((r, ct) => Commands.ListAsync(
    Reads(r), r.GetValue(json), r.GetValue(limit), r.GetValue(listStatus), r.GetValue(listType), r.GetValue(listPrefix), r.GetValue(after), ct));

var signalId = WorkflowId();
var signalName = new Argument<string>("signalName") { Description = "The signal's name, as the workflow waits for it (the approval sample waits for 'decision')" };
var payload = new Option<string?>("--payload") { Description = "The signal's payload as JSON, e.g. {\"approved\": true, \"by\": \"grace\"}" };
var signal = new Command("signal", "Deliver a signal to a workflow (durable before this says so), then run it on until it ends or waits")
{
    signalId, signalName, payload, db, effects, onCluster, joinSeeds, joinHostname, joinPort, joinTimeout, onClusterConfig,
};
signal.SetAction((r, ct) => Commands.SignalAsync(r.GetValue(signalId)!, r.GetValue(signalName)!, r.GetValue(payload), Sends(r, effects), r.GetValue(effects), ct));

var cancelId = WorkflowId();
var reason = new Option<string?>("--reason") { Description = "Why, kept with the record" };
var cancel = new Command("cancel", "Cancel a workflow: it wakes, runs its cleanup steps and ends CANCELLED")
{
    cancelId, reason, db, effects, onCluster, joinSeeds, joinHostname, joinPort, joinTimeout, onClusterConfig,
};
cancel.SetAction((r, ct) => Commands.CancelAsync(r.GetValue(cancelId)!, r.GetValue(reason), Sends(r, effects), r.GetValue(effects), ct));

var cluster = new Option<bool>("--cluster") { Description = "Run as a node of a cluster, journaled in PostgreSQL (needs --postgres; see --port, --seed)" };
var port = new Option<int>("--port") { Description = "With --cluster: this node's TCP port", DefaultValueFactory = _ => 4053 };
var hostname = new Option<string>("--hostname") { Description = "With --cluster: the address other nodes reach this one at", DefaultValueFactory = _ => "127.0.0.1" };
var seeds = new Option<string[]>("--seed") { Description = "With --cluster: a seed node as host:port (repeat it; default: this node, which then forms a new cluster)", AllowMultipleArgumentsPerToken = false };
var postgres = new Option<string?>("--postgres") { Description = "With --cluster: the PostgreSQL connection string, e.g. \"Host=127.0.0.1;Port=5432;Username=postgres;Database=durable\"" };
var minNodes = new Option<int>("--min-nodes") { Description = "With --cluster: start placing workflows once this many nodes joined (on a cold start of several nodes)", DefaultValueFactory = _ => 1 };
var clusterConfig = new Option<string?>("--config") { Description = "With --cluster: a HOCON file over the cluster defaults (e.g. split-brain resolver timings)" };
var verbose = new Option<bool>("--verbose") { Description = "With --cluster: log Akka's cluster events (INFO) on stderr" };
var serve = new Command("serve", "Host the engine until Ctrl+C or SIGTERM: resume unfinished workflows, fire their timers when due") { db, effects, staleTimeout, busyTimeout, cluster, port, hostname, seeds, postgres, verbose, minNodes, clusterConfig };
serve.SetAction((r, ct) => r.GetValue(cluster)
    ? ClusterServe.RunAsync(new ClusterServeRequest(r.GetValue(hostname)!, r.GetValue(port), r.GetValue(seeds) ?? [], r.GetValue(postgres), r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(verbose), r.GetValue(minNodes), r.GetValue(clusterConfig)), ct)
    : Commands.ServeAsync(r.GetValue(db)!, r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(busyTimeout), ct));

var all = new Option<bool>("--all") { Description = "Check every workflow, not only the unfinished ones" };
var check = new Command("check", "Replay the unfinished workflows against the current code, read-only, running no step: exit 0 all compatible, 1 some not") { db, all, json };
check.SetAction((r, ct) => Commands.CheckAsync(r.GetValue(db)!, r.GetValue(all), r.GetValue(json), ct));

var urls = new Option<string>("--urls")
{
    Description = "Where to listen, separated by ';'. Any address other than loopback (127.0.0.1, ::1, localhost) needs --token",
    DefaultValueFactory = _ => "http://127.0.0.1:5080",
};
var token = new Option<string?>("--token") { Description = "An access token the browser must present once (open the address with ?token=...)" };
var dashboard = new Command("dashboard", "Serve the web dashboard for the database, with the engine running on it (as serve does) so that its actions work") { db, urls, token, effects, staleTimeout, busyTimeout };
dashboard.SetAction((r, ct) => DashboardCommand.RunAsync(r.GetValue(db)!, r.GetValue(urls)!, r.GetValue(token), r.GetValue(effects), r.GetValue(staleTimeout), r.GetValue(busyTimeout), ct));

var root = new RootCommand("Durable.Actors: durable workflows on Akka.NET and SQLite. Runs the onboarding sample.")
{
    start, resume, crashAfter, recover, serve, signal, cancel, status, history, list, check, dashboard,
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    Console.Error.WriteLine($"error: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return ExitCodes.BadUsage;
}
return await parsed.InvokeAsync();
