using System.Diagnostics;

namespace Durable.Actors.Observability;

/// <summary>
/// One executed attempt of a step, measured from the moment its IN_PROGRESS record is durable until its body returned
/// (and its completion is handed to the actor) or failed (before its failure is recorded): a span (a child of the current activity: the
/// run's, a parallel block's, or the workflow code's own), the attempt and duration metrics, and a log line at Debug
/// (Warning when it failed). Replayed steps never get one: their bodies do not run.
/// </summary>
internal readonly struct StepAttempt
{
    private readonly RunTelemetry? _run;
    private readonly Activity? _span;
    private readonly long _started;
    private readonly string _key;
    private readonly string _stepId;
    private readonly int _attempt;

    private StepAttempt(RunTelemetry? run, Activity? span, string key, string stepId, int attempt)
    {
        _run = run;
        _span = span;
        _started = Stopwatch.GetTimestamp();
        _key = key;
        _stepId = stepId;
        _attempt = attempt;
    }

    /// <summary>Starts the attempt's span (it becomes the current activity of the calling async flow, so the body's own spans nest in it).</summary>
    public static StepAttempt Start(RunTelemetry? run, string key, string stepId, int attempt)
    {
        Activity? span = null;
        if (Telemetry.Source.HasListeners())
        {
            span = Telemetry.Source.StartActivity(Telemetry.StepSpan, ActivityKind.Internal);
            if (span is not null)
            {
                span.DisplayName = "step " + stepId;
                if (run is not null)
                {
                    span.SetTag(Telemetry.Tags.WorkflowId, run.WorkflowId);
                    span.SetTag(Telemetry.Tags.WorkflowType, run.WorkflowType);
                }
                span.SetTag(Telemetry.Tags.StepKey, key);
                span.SetTag(Telemetry.Tags.StepId, stepId);
                span.SetTag(Telemetry.Tags.StepAttempt, attempt);
            }
        }
        if (attempt > 1 && Telemetry.StepRetries.Enabled)
            Telemetry.StepRetries.Add(1, new KeyValuePair<string, object?>(Telemetry.Tags.StepId, stepId));
        return new StepAttempt(run, span, key, stepId, attempt);
    }

    public void Executed() => End(Telemetry.StepOutcomes.Executed, null);

    /// <summary>The attempt failed with <paramref name="error"/>; <paramref name="cancelled"/> when the step's own token was cancelled.</summary>
    public void Failed(Exception error, bool cancelled) =>
        End(cancelled ? Telemetry.StepOutcomes.Cancelled : Telemetry.StepOutcomes.Failed, error);

    private void End(string outcome, Exception? error)
    {
        if (_span is null && _run?.Logger is null && !Telemetry.StepAttempts.Enabled && !Telemetry.StepDuration.Enabled)
            return;
        var seconds = Telemetry.Seconds(_started);
        if (_span is { } span)
        {
            span.SetTag(Telemetry.Tags.StepOutcome, outcome);
            if (error is not null)
                Telemetry.Failed(span, error.Message, error);
            span.Stop();
        }
        if (Telemetry.StepAttempts.Enabled || Telemetry.StepDuration.Enabled)
        {
            var tags = new TagList
            {
                { Telemetry.Tags.StepId, _stepId },
                { Telemetry.Tags.StepOutcome, outcome },
                { Telemetry.Tags.WorkflowType, _run?.WorkflowType },
            };
            Telemetry.StepAttempts.Add(1, tags);
            Telemetry.StepDuration.Record(seconds, tags);
        }
        if (_run?.Logger is { } logger)
        {
            if (error is null)
                WorkflowLog.StepExecuted(logger, _stepId, _key, _attempt, seconds * 1000);
            else
                WorkflowLog.StepFailed(logger, error, _stepId, _key, _attempt, outcome, error.Message);
        }
    }
}
