using System.CommandLine;
using System.CommandLine.Help;
using Durable.Actors.Cli;

var db = new Option<string>("--db") { Description = "The SQLite database file", DefaultValueFactory = _ => "durable.db" };
var effects = new Option<string?>("--effects") { Description = "The sample's effects log (default: effects.log beside the database)" };
var type = new Option<string>("--type") { Description = "The registered workflow type to start", DefaultValueFactory = _ => "onboarding" };
var input = new Option<string?>("--input") { Description = "The workflow input as JSON (default: the sample's new hire)" };
var staleTimeout = new Option<string?>("--stale-timeout") { Description = "Age after which an IN_PROGRESS step is a zombie to run again, e.g. 0s, 30s, 5m (default: the configured one)" };
var json = new Option<bool>("--json") { Description = "Print JSON for scripts" };
Argument<string> WorkflowId() => new("workflowId") { Description = "The workflow's id" };

var startId = WorkflowId();
var start = new Command("start", "Run a workflow (the onboarding sample by default) to its end; an existing id resumes") { startId, type, input, db, effects };
start.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest(r.GetValue(startId)!, r.GetValue(db)!, r.GetValue(effects), null, Start: (r.GetValue(type)!, r.GetValue(input)), CrashAfter: null), ct));

var resumeId = WorkflowId();
var resume = new Command("resume", "Run an existing workflow again: completed steps replay, the rest run") { resumeId, db, effects, staleTimeout };
resume.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest(r.GetValue(resumeId)!, r.GetValue(db)!, r.GetValue(effects), r.GetValue(staleTimeout), Start: null, CrashAfter: null), ct));

var crashId = WorkflowId();
var crashN = new Argument<int>("N") { Description = "Kill the process right after the N-th step's IN_PROGRESS record is durable, before its body runs" };
var crashAfter = new Command("crash-after", "Start (or resume) a workflow and kill the process at its N-th step") { crashId, crashN, type, input, db, effects, staleTimeout };
crashAfter.SetAction((r, ct) => Commands.RunAsync(
    new RunRequest(r.GetValue(crashId)!, r.GetValue(db)!, r.GetValue(effects), r.GetValue(staleTimeout), Start: (r.GetValue(type)!, r.GetValue(input)), CrashAfter: r.GetValue(crashN)), ct));

var statusId = WorkflowId();
var status = new Command("status", "Show a workflow's status, read from the journal") { statusId, db, json };
status.SetAction((r, ct) => Commands.StatusAsync(r.GetValue(statusId)!, r.GetValue(db)!, r.GetValue(json), ct));

var historyId = WorkflowId();
var history = new Command("history", "Show every step of a workflow: key, step id, status, attempts, times, result") { historyId, db, json };
history.SetAction((r, ct) => Commands.HistoryAsync(r.GetValue(historyId)!, r.GetValue(db)!, r.GetValue(json), ct));

var list = new Command("list", "List every workflow with its status") { db, json };
list.SetAction((r, ct) => Commands.ListAsync(r.GetValue(db)!, r.GetValue(json), ct));

var root = new RootCommand("Durable.Actors: durable workflows on Akka.NET and SQLite. Runs the onboarding sample.")
{
    start, resume, crashAfter, status, history, list,
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    Console.Error.WriteLine($"error: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return ExitCodes.BadUsage;
}
return await parsed.InvokeAsync();
