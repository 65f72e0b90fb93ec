using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Durable.Actors.Observability;

/// <summary>
/// The telemetry of one run of a workflow: its span (started when the run begins, ended when the run ends, is put
/// away or its actor stops, so that no span stays open while a workflow sleeps), the spans of its durable waits, the
/// phase it counts in for the gauges, its logs and the workflow-level metrics. Created and ended by the workflow's
/// actor; the run's code reads <see cref="Span"/> and counts replays.
/// </summary>
internal sealed class RunTelemetry : IDisposable
{
    private readonly Runtime.WorkflowRuntime _host;
    private Dictionary<string, (Activity? Span, bool Signal)>? _waits;
    private int _replayed;
    private int _timers;
    private int _signals;
    private WorkflowPhase _phase;
    private bool _ended;

    private RunTelemetry(Runtime.WorkflowRuntime host, string workflowId, string workflowType, Activity? span)
    {
        _host = host;
        WorkflowId = workflowId;
        WorkflowType = workflowType;
        Span = span;
        Logger = host.Logger;
    }

    public string WorkflowId { get; }

    public string WorkflowType { get; }

    /// <summary>The run's span; null when nothing listens.</summary>
    public Activity? Span { get; }

    /// <summary>The host's logger of workflow events; null when the host has no logger factory (not hosted).</summary>
    public ILogger? Logger { get; }

    /// <summary>The log scope of the workflow (built once per run, when there is a logger).</summary>
    public WorkflowLogScope Scope => _scope ??= new WorkflowLogScope(WorkflowId, WorkflowType);

    private WorkflowLogScope? _scope;

    /// <summary>
    /// The first run of a new workflow, under the caller's trace context (<paramref name="callerTraceParent"/>), begun
    /// before the start is journaled so that the journal's <c>WorkflowStarted</c> can record this span for later runs to link to.
    /// </summary>
    public static RunTelemetry First(Runtime.WorkflowRuntime host, string workflowId, string workflowType, string? callerTraceParent)
    {
        var span = Telemetry.Source.HasListeners()
            ? Telemetry.StartDetached(Telemetry.RunSpan, "run " + workflowType, Telemetry.Parse(callerTraceParent))
            : null;
        var run = new RunTelemetry(host, workflowId, workflowType, span);
        run.Began(resumed: false);
        return run;
    }

    /// <summary>
    /// A later run (a resume, a wake-up, a run after a crash): a new trace, linked to the workflow's first run
    /// (<paramref name="firstTraceParent"/>, from its journal) and to the run before it in this actor, when there was one.
    /// </summary>
    public static RunTelemetry Later(Runtime.WorkflowRuntime host, string workflowId, string workflowType, string? firstTraceParent, ActivityContext previous)
    {
        Activity? span = null;
        if (Telemetry.Source.HasListeners())
        {
            var first = Telemetry.Parse(firstTraceParent);
            var links = new List<ActivityLink>(2);
            if (first != default)
                links.Add(new ActivityLink(first));
            if (previous != default && previous != first)
                links.Add(new ActivityLink(previous));
            span = Telemetry.StartDetached(Telemetry.RunSpan, "run " + workflowType, default, links);
        }
        var run = new RunTelemetry(host, workflowId, workflowType, span);
        run.Began(resumed: true);
        return run;
    }

    private void Began(bool resumed)
    {
        if (Span is { } span)
        {
            span.SetTag(Telemetry.Tags.WorkflowId, WorkflowId);
            span.SetTag(Telemetry.Tags.WorkflowType, WorkflowType);
            span.SetTag(Telemetry.Tags.RunResumed, resumed);
        }
        Gauges.Unparked(_host, WorkflowId);
        Move(WorkflowPhase.Running);
        if (resumed && Logger is { } logger)
        {
            using var _ = logger.BeginScope(Scope);
            WorkflowLog.RunBegan(logger, WorkflowId, WorkflowType);
        }
    }

    /// <summary>The start of the workflow whose first run this is is durable: counted and logged.</summary>
    public void Journaled()
    {
        if (Telemetry.WorkflowsStarted.Enabled)
            Telemetry.WorkflowsStarted.Add(1, new KeyValuePair<string, object?>(Telemetry.Tags.WorkflowType, WorkflowType));
        if (Logger is { } logger)
        {
            using var _ = logger.BeginScope(Scope);
            WorkflowLog.WorkflowStarted(logger, WorkflowId, WorkflowType);
        }
    }

    /// <summary>The W3C traceparent of the run's span, null when nothing listens.</summary>
    public string? TraceParent => Span?.Id;

    /// <summary>
    /// Makes the run's span the current activity and opens the log scope of the workflow, for the rest of the calling
    /// async flow (the run's code, or a branch's): its steps' spans are children of the run's, and whatever the
    /// workflow code logs carries the workflow id.
    /// </summary>
    public IDisposable? Enter(Activity? parent)
    {
        if (parent is not null)
            Activity.Current = parent;
        return Logger?.BeginScope(Scope);
    }

    /// <summary>A step of this run returned its recorded result (called from the run's code).</summary>
    public void Replayed() => Interlocked.Increment(ref _replayed);

    /// <summary>A durable wait at <paramref name="key"/> began to wait (not a replay of one that ended): a span and a phase.</summary>
    public void WaitBegan(string key, string? signalName, DateTimeOffset? dueAt, ActivityContext parent)
    {
        _waits ??= new Dictionary<string, (Activity? Span, bool Signal)>(StringComparer.Ordinal);
        if (_ended || _waits.ContainsKey(key))
            return;
        Activity? span = null;
        if (Telemetry.Source.HasListeners())
        {
            var under = parent != default ? parent : Span?.Context ?? default;
            var child = Journal.ChildSignals.ChildOf(signalName);
            var (name, display) = signalName is null ? (Telemetry.SleepSpan, "sleep")
                : child is not null ? (Telemetry.ChildSpan, "child " + child)
                : (Telemetry.SignalSpan, "wait signal " + signalName);
            span = Telemetry.StartDetached(name, display, under);
            if (span is not null)
            {
                span.SetTag(Telemetry.Tags.WorkflowId, WorkflowId);
                span.SetTag(Telemetry.Tags.WorkflowType, WorkflowType);
                span.SetTag(Telemetry.Tags.WaitKey, key);
                if (child is not null)
                    span.SetTag(Telemetry.Tags.ChildId, child);
                else if (signalName is not null)
                    span.SetTag(Telemetry.Tags.SignalName, signalName);
                if (signalName is null && dueAt is { } due)
                    span.SetTag(Telemetry.Tags.WakeAt, due.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        _waits[key] = (span, signalName is not null);
        if (signalName is null)
            _timers++;
        else
            _signals++;
        Move(CurrentPhase());
    }

    /// <summary>The wait at <paramref name="key"/> ended: <c>fired</c>, <c>received</c>, <c>timed_out</c>.</summary>
    public void WaitEnded(string key, string outcome)
    {
        if (_waits is null || !_waits.Remove(key, out var wait))
            return;
        EndWait(wait.Span, outcome);
        if (wait.Signal)
            _signals--;
        else
            _timers--;
        if (!_ended)
            Move(CurrentPhase());
    }

    private static void EndWait(Activity? span, string outcome)
    {
        if (span is null)
            return;
        span.SetTag(Telemetry.Tags.WaitOutcome, outcome);
        Telemetry.StopDetached(span);
    }

    private WorkflowPhase CurrentPhase() =>
        _signals > 0 ? WorkflowPhase.Waiting : _timers > 0 ? WorkflowPhase.Sleeping : WorkflowPhase.Running;

    private void Move(WorkflowPhase to)
    {
        Gauges.Move(WorkflowType, _phase, to);
        _phase = to;
    }

    /// <summary>The run ended with <paramref name="reply"/>: a completed, failed or cancelled workflow.</summary>
    public void Ended(object reply, DateTimeOffset workflowStartedAt, DateTimeOffset now)
    {
        if (_ended)
            return;
        var (outcome, error, counter) = reply switch
        {
            WorkflowCompleted => ("completed", null, Telemetry.WorkflowsCompleted),
            WorkflowCancelled c => ("cancelled", c.Reason, Telemetry.WorkflowsCancelled),
            WorkflowFailed f => ("failed", f.Error, Telemetry.WorkflowsFailed),
            _ => ("stopped", null, null),
        };
        var typeTag = new KeyValuePair<string, object?>(Telemetry.Tags.WorkflowType, WorkflowType);
        if (counter is { Enabled: true })
            counter.Add(1, typeTag);
        if (Telemetry.WorkflowDuration.Enabled)
            Telemetry.WorkflowDuration.Record(Math.Max(0, (now - workflowStartedAt).TotalSeconds), typeTag,
                new KeyValuePair<string, object?>(Telemetry.Tags.Outcome, outcome));
        if (Logger is { } logger)
        {
            using var _ = logger.BeginScope(Scope);
            var took = now - workflowStartedAt;
            switch (outcome)
            {
                case "completed":
                    WorkflowLog.WorkflowCompleted(logger, WorkflowId, WorkflowType, took.TotalSeconds);
                    break;
                case "cancelled":
                    WorkflowLog.WorkflowCancelled(logger, WorkflowId, WorkflowType, error);
                    break;
                case "failed":
                    WorkflowLog.WorkflowFailed(logger, WorkflowId, WorkflowType, error);
                    break;
            }
        }
        End(outcome, outcome == "failed" ? error : null, WorkflowPhase.None);
    }

    /// <summary>The run is let go while its workflow waits (<paramref name="what"/>); the workflow stays counted as waiting or sleeping.</summary>
    public void PutAway(string what)
    {
        if (_ended)
            return;
        var phase = CurrentPhase();
        if (Logger is { } logger)
        {
            using var _ = logger.BeginScope(Scope);
            WorkflowLog.RunPutAway(logger, WorkflowId, WorkflowType, what);
        }
        End("put_away", null, phase);
        if (phase is not (WorkflowPhase.None or WorkflowPhase.Running))
        {
            Gauges.Parked(_host, WorkflowId, WorkflowType, phase);
            // Counted as parked from now on: the run no longer holds the count.
            _phase = WorkflowPhase.None;
        }
        else
            Move(WorkflowPhase.None);
    }

    /// <summary>Ends whatever is still open: the run's actor stopped (a journal failure, passivation, shutdown).</summary>
    public void Dispose() => End("stopped", null, WorkflowPhase.None);

    private void End(string outcome, string? error, WorkflowPhase keep)
    {
        if (_ended)
            return;
        _ended = true;
        if (_waits is not null)
        {
            foreach (var (_, wait) in _waits)
                EndWait(wait.Span, outcome);
            _waits.Clear();
        }
        if (keep == WorkflowPhase.None)
            Move(WorkflowPhase.None);
        if (Span is not { } span)
            return;
        span.SetTag(Telemetry.Tags.RunOutcome, outcome);
        span.SetTag(Telemetry.Tags.ReplayedSteps, Volatile.Read(ref _replayed));
        if (error is not null)
            Telemetry.Failed(span, error);
        Telemetry.StopDetached(span);
    }
}
