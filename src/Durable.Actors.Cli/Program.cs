using System.CommandLine;
using System.CommandLine.Help;
using Durable.Actors.Cli;
using Durable.Actors.Cli.Verbs;

// One file per verb (Verbs/): each declares its options and action. Where a verb works, a SQLite file or a cluster, is
// a Target (Targets/); what it prints is in Output/; the ActorSystems it runs are in Hosting/.
var options = new CliOptions();
var root = new RootCommand("Durable.Actors: durable workflows on Akka.NET and SQLite. Runs the onboarding sample.")
{
    StartVerb.Create(options),
    ResumeVerb.Create(options),
    CrashAfterVerb.Create(options),
    RecoverVerb.Create(options),
    ServeVerb.Create(options),
    SignalVerb.Create(options),
    CancelVerb.Create(options),
    PauseVerb.Create(options),
    PauseVerb.CreateUnpause(options),
    PurgeVerb.Create(options),
    ForkVerb.Create(options),
    ScheduleVerb.Create(options),
    QueueVerb.CreateEnqueue(options),
    QueueVerb.Create(options),
    StatusVerb.Create(options),
    HistoryVerb.Create(options),
    ListVerb.Create(options),
    CheckVerb.Create(options),
    DashboardVerb.Create(options),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    Console.Error.WriteLine($"error: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return ExitCodes.BadUsage;
}
return await parsed.InvokeAsync();
