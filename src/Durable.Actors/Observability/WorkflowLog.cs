using System.Collections;
using Microsoft.Extensions.Logging;

namespace Durable.Actors.Observability;

/// <summary>
/// The engine's log events through Microsoft.Extensions.Logging (category <c>Durable.Actors.Workflows</c>), written
/// when the host has a logger factory (Akka.Hosting). At Information a workflow logs its start, each later run, and
/// its end; steps log at Debug (a failed attempt at Warning), so a step never adds a line at Information.
/// </summary>
internal static partial class WorkflowLog
{
    public const string Category = "Durable.Actors.Workflows";

    [LoggerMessage(EventId = 1, EventName = "WorkflowStarted", Level = LogLevel.Information,
        Message = "Workflow {WorkflowId} ({WorkflowType}) started")]
    public static partial void WorkflowStarted(ILogger logger, string workflowId, string workflowType);

    [LoggerMessage(EventId = 2, EventName = "RunBegan", Level = LogLevel.Information,
        Message = "Workflow {WorkflowId} ({WorkflowType}) runs again: recorded steps replay, the rest run")]
    public static partial void RunBegan(ILogger logger, string workflowId, string workflowType);

    [LoggerMessage(EventId = 3, EventName = "WorkflowCompleted", Level = LogLevel.Information,
        Message = "Workflow {WorkflowId} ({WorkflowType}) completed, {DurationSeconds:0.###} s after its start")]
    public static partial void WorkflowCompleted(ILogger logger, string workflowId, string workflowType, double durationSeconds);

    [LoggerMessage(EventId = 4, EventName = "WorkflowFailed", Level = LogLevel.Warning,
        Message = "Workflow {WorkflowId} ({WorkflowType}) failed: {Error}")]
    public static partial void WorkflowFailed(ILogger logger, string workflowId, string workflowType, string? error);

    [LoggerMessage(EventId = 5, EventName = "WorkflowCancelled", Level = LogLevel.Information,
        Message = "Workflow {WorkflowId} ({WorkflowType}) was cancelled: {Reason}")]
    public static partial void WorkflowCancelled(ILogger logger, string workflowId, string workflowType, string? reason);

    [LoggerMessage(EventId = 6, EventName = "RunPutAway", Level = LogLevel.Debug,
        Message = "Workflow {WorkflowId} ({WorkflowType}) is {Waiting}: its run is let go until then")]
    public static partial void RunPutAway(ILogger logger, string workflowId, string workflowType, string waiting);

    [LoggerMessage(EventId = 10, EventName = "StepExecuted", Level = LogLevel.Debug,
        Message = "Step {StepId} ({StepKey}) attempt {Attempt} executed in {DurationMs:0.###} ms")]
    public static partial void StepExecuted(ILogger logger, string stepId, string stepKey, int attempt, double durationMs);

    [LoggerMessage(EventId = 11, EventName = "StepFailed", Level = LogLevel.Warning,
        Message = "Step {StepId} ({StepKey}) attempt {Attempt} {Outcome}: {Error}")]
    public static partial void StepFailed(ILogger logger, Exception exception, string stepId, string stepKey, int attempt, string outcome, string error);
}

/// <summary>The log scope of a workflow's events and of its code: <c>WorkflowId</c> and <c>WorkflowType</c>.</summary>
internal sealed class WorkflowLogScope(string workflowId, string workflowType) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("WorkflowId", workflowId),
        1 => new("WorkflowType", workflowType),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public int Count => 2;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"WorkflowId:{workflowId} WorkflowType:{workflowType}";
}
