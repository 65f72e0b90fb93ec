using System.CommandLine;
using Durable.Actors.Samples.Onboarding;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>start</c>: runs workflows to their end; an existing id resumes with its recorded type and input.</summary>
internal static class StartVerb
{
    public static Command Create(CliOptions o)
    {
        var ids = new Argument<string[]>("workflowId") { Description = "The ids of the workflows to run, at once", Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<string?>("--timeout")
        {
            Description = "How long each new workflow may take from its start, e.g. 30m, 2h; then it is cancelled as timed out, with its children",
        };
        var command = new Command("start", "Run workflows (the onboarding sample by default) to their end; an existing id resumes")
        {
            ids, o.Type, o.Input, timeout, o.Db, o.Effects, o.BusyTimeout, o.AllowForeign,
        };
        o.AddClusterJoin(command);
        command.SetAction((r, ct) => WorkflowRuns.RunAsync(
            new RunRequest(r.GetValue(ids)!, o.Sends(r, o.Effects, o.BusyTimeout, o.AllowForeign), r.GetValue(o.Effects), null, r.GetValue(o.BusyTimeout),
                Start: (r.GetValue(o.Type)!, r.GetValue(o.Input)), CrashAfter: null, r.GetValue(o.AllowForeign), r.GetValue(timeout)), ct));
        return command;
    }

    /// <summary>The workflow types the CLI runs, for its help.</summary>
    public static IReadOnlyCollection<string> WorkflowTypes() =>
        SampleWorkflows.Register(new WorkflowRegistry(), new EffectsLog("effects.log")).WorkflowTypes;
}
