using System.CommandLine;
using Durable.Actors.Benchmarks;

// The benchmark: every workload runs in a child process of its own (fresh JIT, fresh GC, its own peak RSS) on a
// fresh SQLite file in --dir; the floor runs here, on the same disk, with the same synchronous setting.
var synchronous = new Option<string>("--synchronous") { Description = "SQLite synchronous mode: full or normal", DefaultValueFactory = _ => "full" };
var runs = new Option<int>("--runs") { Description = "Runs of each workload; the table shows median, min and max", DefaultValueFactory = _ => 3 };
var output = new Option<string?>("--out") { Description = "Write every run and the summary as JSON to this file" };
var dir = new Option<string>("--dir") { Description = "Folder for the database files", DefaultValueFactory = _ => "bench-data" };
var floorCommits = new Option<int>("--floor-commits") { DefaultValueFactory = _ => 1000 };
var floorRows = new Option<int>("--floor-rows") { DefaultValueFactory = _ => 50_000 };
var w1Steps = new Option<int>("--w1-steps") { DefaultValueFactory = _ => 1000 };
var w1ResumeSteps = new Option<int>("--w1-resume-steps") { Description = "W1: recorded steps of the workflow a new process resumes", DefaultValueFactory = _ => 10_000 };
var w2Workflows = new Option<int>("--w2-workflows") { DefaultValueFactory = _ => 500 };
var w2Steps = new Option<int>("--w2-steps") { DefaultValueFactory = _ => 10 };
var w3Workflows = new Option<int>("--w3-workflows") { DefaultValueFactory = _ => 1000 };
var w4Workflows = new Option<int>("--w4-workflows") { DefaultValueFactory = _ => 1000 };
var w4Steps = new Option<int>("--w4-steps") { DefaultValueFactory = _ => 10 };
var w4KillAt = new Option<int>("--w4-kill-at") { Description = "Kill the W4 process once this many side-effect lines are written", DefaultValueFactory = _ => 5000 };
var w5Workflows = new Option<int>("--w5-workflows") { Description = "W5: two-step workflows to run (W6 inspects the database they leave)", DefaultValueFactory = _ => 100_000 };
var w5Batch = new Option<int>("--w5-batch") { Description = "W5: workflows started at a time", DefaultValueFactory = _ => 1000 };
var w5Baseline = new Option<int>("--w5-baseline") { Description = "W5: memory is compared with what the host held after this many workflows (a multiple of --w5-batch)", DefaultValueFactory = _ => 5000 };
var w6LongSteps = new Option<int>("--w6-long-steps") { Description = "W6: steps of the long workflow whose status is read", DefaultValueFactory = _ => 5000 };
var w7Workflows = new Option<int>("--w7-workflows") { Description = "W7: workflows put to sleep for an hour (1,000 started at a time)", DefaultValueFactory = _ => 100_000 };
var w8Workflows = new Option<int>("--w8-workflows") { Description = "W8: workflows whose timers come due at one instant", DefaultValueFactory = _ => 10_000 };
var w9Signals = new Option<int>("--w9-signals") { Description = "W9: signal round trips, one at a time, each to a workflow waiting in memory", DefaultValueFactory = _ => 1000 };
var w10Workflows = new Option<int>("--w10-workflows") { Description = "W10: one-step workflows in the database the CLI's list, status and history read", DefaultValueFactory = _ => 100_000 };
var w11Workflows = new Option<int>("--w11-workflows") { Description = "W11: workflows whose one step returns 100 KB, run before the heap is measured once their actors passivated", DefaultValueFactory = _ => 300 };
var w12Workflows = new Option<int>("--w12-workflows") { Description = "W12: two-step workflows started at --w12-rate a second, completed ones kept a minute", DefaultValueFactory = _ => 500_000 };
var w12Rate = new Option<int>("--w12-rate") { Description = "W12: workflows started per second", DefaultValueFactory = _ => 2000 };
var w14Schedules = new Option<int>("--w14-schedules") { Description = "W14: schedules every 10 s, all due at the same instants", DefaultValueFactory = _ => 1000 };
var w14Seconds = new Option<int>("--w14-seconds") { Description = "W14: how long the schedules fire (real time)", DefaultValueFactory = _ => 60 };
var w13Workflows = new Option<int>("--w13-workflows") { Description = "W13: one-step workflows enqueued at once on a queue of concurrency 50, key concurrency 1 over 100 keys", DefaultValueFactory = _ => 10_000 };
var only = new Option<string?>("--only") { Description = "Run only these workloads, comma-separated: f0 (the floor), w1 … w12 (w5 and w6 run together); all by default" };
var clusterPostgres = new Option<string?>("--cluster-postgres") { Description = "Run W2 and W3 on a cluster of 3 node processes journaled in this PostgreSQL database (a connection string) instead of the SQLite workloads" };
var child = new Option<string?>("--child") { Hidden = true };
var db = new Option<string?>("--db") { Hidden = true };
var count = new Option<int>("--count") { Hidden = true };
var steps = new Option<int>("--steps") { Hidden = true };
var effects = new Option<string?>("--effects") { Hidden = true };
var killAt = new Option<int>("--kill-at") { Hidden = true };

var root = new RootCommand("Durable.Actors benchmark: step cost, throughput and recovery against the raw SQLite floor")
{
    synchronous, runs, output, dir, floorCommits, floorRows, w1Steps, w1ResumeSteps, w2Workflows, w2Steps, w3Workflows, w4Workflows, w4Steps, w4KillAt,
    w5Workflows, w5Batch, w5Baseline, w6LongSteps, w7Workflows, w8Workflows, w9Signals, w10Workflows, w11Workflows, w12Workflows, w12Rate, w13Workflows, w14Schedules, w14Seconds, only, clusterPostgres, child, db, count, steps, effects, killAt,
};
root.SetAction(async (r, ct) =>
{
    var mode = r.GetValue(synchronous)!.ToUpperInvariant();
    if (mode is not ("FULL" or "NORMAL"))
    {
        Console.Error.WriteLine($"error: --synchronous '{r.GetValue(synchronous)}' is not full or normal");
        return 2;
    }

    if (r.GetValue(clusterPostgres) is { } postgres)
        return await ClusterBench.RunAsync(postgres, Math.Max(1, r.GetValue(runs)), r.GetValue(w2Workflows), r.GetValue(w2Steps), r.GetValue(w3Workflows));

    if (r.GetValue(child) is { } workload)
        return await Child.RunAsync(workload, r.GetValue(db)!, mode, r.GetValue(count), r.GetValue(steps), r.GetValue(effects), r.GetValue(killAt));

    var sizes = new Sizes(r.GetValue(floorCommits), r.GetValue(floorRows), r.GetValue(w1Steps), r.GetValue(w1ResumeSteps), r.GetValue(w2Workflows), r.GetValue(w2Steps),
        r.GetValue(w3Workflows), r.GetValue(w4Workflows), r.GetValue(w4Steps), r.GetValue(w4KillAt),
        r.GetValue(w5Workflows), r.GetValue(w5Batch), r.GetValue(w5Baseline), r.GetValue(w6LongSteps),
        r.GetValue(w7Workflows), r.GetValue(w8Workflows), r.GetValue(w9Signals), r.GetValue(w10Workflows), r.GetValue(w11Workflows),
        r.GetValue(w12Workflows), r.GetValue(w12Rate), r.GetValue(w13Workflows), r.GetValue(w14Schedules), r.GetValue(w14Seconds), Selected(r.GetValue(only)));
    if (sizes.Only is { } selected && (selected.Count == 0 || selected.FirstOrDefault(w => !Sizes.Workloads.Contains(w)) is { }))
    {
        Console.Error.WriteLine($"error: --only '{r.GetValue(only)}' names none or not only of {string.Join(", ", Sizes.Workloads)}");
        return 2;
    }
    if (sizes.W7Workflows < 1 || sizes.W8Workflows < 1 || sizes.W9Signals < 1 || sizes.W10Workflows < 1 || sizes.W11Workflows < 1
        || sizes.W12Workflows < 1 || sizes.W12Rate < 1 || sizes.W13Workflows < 1 || sizes.W14Schedules < 1 || sizes.W14Seconds < 1)
    {
        Console.Error.WriteLine("error: --w7-workflows, --w8-workflows, --w9-signals, --w10-workflows, --w11-workflows, --w12-workflows, --w12-rate, --w13-workflows, --w14-schedules and --w14-seconds must be at least 1");
        return 2;
    }
    if (sizes.W4KillAt >= sizes.W4Workflows * sizes.W4Steps)
    {
        Console.Error.WriteLine("error: --w4-kill-at must be below --w4-workflows × --w4-steps");
        return 2;
    }
    if (sizes.W5Batch < 1 || sizes.W5Baseline % sizes.W5Batch != 0 || sizes.W5Baseline < sizes.W5Batch || sizes.W5Baseline >= sizes.W5Workflows)
    {
        Console.Error.WriteLine("error: --w5-baseline must be a multiple of --w5-batch, below --w5-workflows");
        return 2;
    }
    var report = await Bench.RunAsync(Path.GetFullPath(r.GetValue(dir)!), mode, Math.Max(1, r.GetValue(runs)), sizes);
    Console.WriteLine(report.Table());
    if (r.GetValue(output) is { } path)
        await File.WriteAllTextAsync(path, report.Json(), ct);
    return 0;
});
return await root.Parse(args).InvokeAsync();

static HashSet<string>? Selected(string? only) => only is null
    ? null
    : only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
