using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Durable.Actors.Observability;

/// <summary>
/// The engine's <see cref="ActivitySource"/> and <see cref="Meter"/> (both named <c>Durable.Actors</c>), their
/// instruments, and the span and attribute names. With no listener, <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and every instrument is disabled: the engine checks both before it builds a tag.
/// </summary>
internal static class Telemetry
{
    private static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(DurableWorkflows.ActivitySourceName, Version);

    public static readonly Meter Meter = new(DurableWorkflows.MeterName, Version);

    // Span operation names (the display name adds the workflow type, step id or signal name).
    public const string RunSpan = "durable.workflow.run";
    public const string StepSpan = "durable.step";
    public const string ParallelSpan = "durable.parallel";
    public const string SleepSpan = "durable.sleep";
    public const string SignalSpan = "durable.signal.wait";
    public const string ChildSpan = "durable.child.wait";

    /// <summary>Attribute (span tag and metric dimension) names.</summary>
    public static class Tags
    {
        public const string WorkflowId = "durable.workflow.id";
        public const string WorkflowType = "durable.workflow.type";
        public const string RunOutcome = "durable.run.outcome";
        public const string RunResumed = "durable.run.resumed";
        public const string ReplayedSteps = "durable.run.replayed_steps";
        public const string StepKey = "durable.step.key";
        public const string StepId = "durable.step.id";
        public const string StepAttempt = "durable.step.attempt";
        public const string StepOutcome = "durable.step.outcome";
        public const string Branches = "durable.parallel.branches";
        public const string WaitKey = "durable.wait.key";
        public const string WaitOutcome = "durable.wait.outcome";
        public const string WakeAt = "durable.sleep.wake_at";
        public const string SignalName = "durable.signal.name";
        public const string ChildId = "durable.child.id";
        public const string Outcome = "durable.workflow.outcome";
        public const string ErrorType = "error.type";
    }

    /// <summary>Step outcomes (<see cref="Tags.StepOutcome"/>).</summary>
    public static class StepOutcomes
    {
        public const string Executed = "executed";
        public const string Failed = "failed";
        public const string Cancelled = "cancelled";
    }

    private static readonly InstrumentAdvice<double> StepSeconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    };

    private static readonly InstrumentAdvice<double> WorkflowSeconds = new()
    {
        HistogramBucketBoundaries = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400, 30 * 86400],
    };

    private static readonly InstrumentAdvice<double> CommitSeconds = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    };

    private static readonly InstrumentAdvice<long> BatchWrites = new()
    {
        HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    };

    public static readonly Counter<long> WorkflowsStarted = Meter.CreateCounter<long>(
        "durable.workflows.started", "{workflow}", "Workflows started (first run), by type.");

    public static readonly Counter<long> WorkflowsCompleted = Meter.CreateCounter<long>(
        "durable.workflows.completed", "{workflow}", "Workflows that completed, by type.");

    public static readonly Counter<long> WorkflowsFailed = Meter.CreateCounter<long>(
        "durable.workflows.failed", "{workflow}", "Runs of workflows that ended failed, by type (a resumed workflow that fails again counts again).");

    public static readonly Counter<long> WorkflowsCancelled = Meter.CreateCounter<long>(
        "durable.workflows.cancelled", "{workflow}", "Workflows that ended cancelled, by type.");

    public static readonly Histogram<double> WorkflowDuration = Meter.CreateHistogram(
        "durable.workflow.duration", "s", "From a workflow's start to its end (sleeps and crashes included), by type and outcome.",
        tags: null, advice: WorkflowSeconds);

    public static readonly Histogram<double> StepDuration = Meter.CreateHistogram(
        "durable.step.duration", "s", "One executed step attempt, by step id and outcome; replayed steps are not measured.",
        tags: null, advice: StepSeconds);

    public static readonly Counter<long> StepAttempts = Meter.CreateCounter<long>(
        "durable.step.attempts", "{attempt}", "Executed step attempts, by step id and outcome; replayed steps are not counted.");

    public static readonly Counter<long> StepRetries = Meter.CreateCounter<long>(
        "durable.step.retries", "{retry}", "Step attempts that run again after a failure (by the retry policy, a resume or a zombie), by step id.");

    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram(
        "durable.journal.commit.duration", "s", "One transaction of the journal's group commit, from BEGIN to COMMIT.",
        tags: null, advice: CommitSeconds);

    public static readonly Histogram<long> CommitBatchSize = Meter.CreateHistogram(
        "durable.journal.commit.batch_size", "{write}", "Writes (one per persist call) committed in one transaction of the group commit.",
        tags: null, advice: BatchWrites);

    static Telemetry()
    {
        Meter.CreateObservableGauge("durable.workflows.running", () => Gauges.Observe(WorkflowPhase.Running), "{workflow}",
            "Workflows of this process running code (not waiting on a timer, a signal or a child), by type.");
        Meter.CreateObservableGauge("durable.workflows.waiting", () => Gauges.Observe(WorkflowPhase.Waiting), "{workflow}",
            "Workflows of this process waiting for a signal or a child workflow (in memory or put away), by type.");
        Meter.CreateObservableGauge("durable.workflows.sleeping", () => Gauges.Observe(WorkflowPhase.Sleeping), "{workflow}",
            "Workflows of this process waiting on a durable timer (in memory or put away), by type.");
    }

    /// <summary>The current activity's W3C traceparent, or null: what a message starting a workflow carries.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The context a traceparent names; default for none or one that does not parse.</summary>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: false, out var context) ? context : default;

    /// <summary>
    /// Starts a span under <paramref name="parent"/> (a root span when it is default) without making it the current
    /// activity of the calling thread: an actor's thread must not carry one workflow's span into another's message.
    /// </summary>
    public static Activity? StartDetached(string name, string displayName, ActivityContext parent, IEnumerable<ActivityLink>? links = null)
    {
        if (!Source.HasListeners())
            return null;
        var previous = Activity.Current;
        // Without a parent, StartActivity would take the thread's current activity as the parent.
        Activity.Current = null;
        try
        {
            var span = Source.StartActivity(name, ActivityKind.Internal, parent, tags: null, links);
            if (span is not null)
                span.DisplayName = displayName;
            return span;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>The span of a parallel block, a child of the current activity (the code's that runs the block).</summary>
    public static Activity? StartParallel(string workflowId, RunTelemetry? run, int branches)
    {
        if (!Source.HasListeners())
            return null;
        var span = Source.StartActivity(ParallelSpan, ActivityKind.Internal);
        if (span is null)
            return null;
        span.DisplayName = "parallel";
        span.SetTag(Tags.WorkflowId, workflowId);
        if (run is not null)
            span.SetTag(Tags.WorkflowType, run.WorkflowType);
        span.SetTag(Tags.Branches, branches);
        return span;
    }

    /// <summary>Stops <paramref name="span"/> on a thread where it may not be current, leaving that thread's current activity as it was.</summary>
    public static void StopDetached(Activity span)
    {
        var previous = Activity.Current;
        span.Stop();
        Activity.Current = previous;
    }

    public static void Failed(Activity span, string? error, Exception? exception = null)
    {
        span.SetStatus(ActivityStatusCode.Error, error);
        if (exception is not null)
        {
            span.SetTag(Tags.ErrorType, exception.GetType().FullName);
            span.AddException(exception);
        }
    }

    /// <summary>A transaction of the journal's group commit, begun at <paramref name="startedTimestamp"/>, committed <paramref name="writes"/> writes.</summary>
    public static void Committed(long startedTimestamp, int writes)
    {
        if (CommitDuration.Enabled)
            CommitDuration.Record(Seconds(startedTimestamp));
        if (CommitBatchSize.Enabled)
            CommitBatchSize.Record(writes);
    }

    public static double Seconds(long startedTimestamp) => Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds;
}

internal enum WorkflowPhase
{
    None,
    Running,
    Waiting,
    Sleeping,
}

/// <summary>
/// The counts behind the running / waiting / sleeping gauges, by workflow type, for every host of this process: each
/// run moves its workflow between phases; a put-away workflow stays counted in its phase until a run takes it up again
/// in this process.
/// </summary>
internal static class Gauges
{
    private static readonly ConcurrentDictionary<string, int[]> ByType = new(StringComparer.Ordinal);
    // By host and workflow id: two hosts of one process may run databases with the same ids.
    private static readonly ConcurrentDictionary<(object Host, string WorkflowId), (string Type, WorkflowPhase Phase)> PutAway = new(new HostAndId());

    public static void Move(string workflowType, WorkflowPhase from, WorkflowPhase to)
    {
        if (from == to)
            return;
        var counts = ByType.GetOrAdd(workflowType, static _ => new int[4]);
        if (from != WorkflowPhase.None)
            Interlocked.Decrement(ref counts[(int)from]);
        if (to != WorkflowPhase.None)
            Interlocked.Increment(ref counts[(int)to]);
    }

    /// <summary>A run let its workflow go while it waits: it stays counted until it runs again.</summary>
    public static void Parked(object host, string workflowId, string workflowType, WorkflowPhase phase) => PutAway[(host, workflowId)] = (workflowType, phase);

    /// <summary>A run of <paramref name="workflowId"/> began: it no longer counts as put away.</summary>
    public static void Unparked(object host, string workflowId)
    {
        if (!PutAway.IsEmpty && PutAway.TryRemove((host, workflowId), out var parked))
            Move(parked.Type, parked.Phase, WorkflowPhase.None);
    }

    /// <summary>Hosts are told apart by reference (a host is a record, whose equality would compare its settings).</summary>
    private sealed class HostAndId : IEqualityComparer<(object Host, string WorkflowId)>
    {
        public bool Equals((object Host, string WorkflowId) x, (object Host, string WorkflowId) y) =>
            ReferenceEquals(x.Host, y.Host) && string.Equals(x.WorkflowId, y.WorkflowId, StringComparison.Ordinal);

        public int GetHashCode((object Host, string WorkflowId) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Host), StringComparer.Ordinal.GetHashCode(key.WorkflowId));
    }

    /// <summary>A host stopped: the workflows it had put away are no longer this process's to count.</summary>
    public static void Forget(object host)
    {
        foreach (var key in PutAway.Keys)
        {
            if (ReferenceEquals(key.Host, host) && PutAway.TryRemove(key, out var parked))
                Move(parked.Type, parked.Phase, WorkflowPhase.None);
        }
    }

    public static IEnumerable<Measurement<int>> Observe(WorkflowPhase phase)
    {
        foreach (var (type, counts) in ByType)
        {
            yield return new Measurement<int>(Volatile.Read(ref counts[(int)phase]), new KeyValuePair<string, object?>(Telemetry.Tags.WorkflowType, type));
        }
    }
}
