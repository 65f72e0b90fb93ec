namespace Durable.Actors;

/// <summary>Told about every step of every workflow a host runs: for progress output, logs and metrics.</summary>
/// <remarks>Called synchronously, on the workflow's thread or the actor's: keep it quick and never throw.</remarks>
public interface IWorkflowObserver
{
    /// <summary>Called at each point of a step's life named by <see cref="StepReport.Kind"/>.</summary>
    void OnStep(StepReport report);
}

/// <summary>What happened to a step.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Key">The step key, <c>workflowId:sequence</c>.</param>
/// <param name="StepId">The step id the workflow code gave.</param>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="Kind">Which point of the step's life this is.</param>
/// <param name="Detail">The error for <see cref="StepReportKind.Failed"/>, the reason for <see cref="StepReportKind.Waiting"/>.</param>
public sealed record StepReport(string WorkflowId, string Key, string StepId, int Attempt, StepReportKind Kind, string? Detail = null);

/// <summary>The points of a step's life reported to an <see cref="IWorkflowObserver"/>.</summary>
public enum StepReportKind
{
    /// <summary>The IN_PROGRESS record is durable; the body is about to run.</summary>
    Starting,

    /// <summary>The body ran and the COMPLETED record is durable.</summary>
    Executed,

    /// <summary>The step had completed before; its recorded result was returned without running the body.</summary>
    Replayed,

    /// <summary>The body threw (or its result could not be recorded) and the FAILED record is durable.</summary>
    Failed,

    /// <summary>An IN_PROGRESS record younger than the stale timeout holds the step; the run waits until it turns stale.</summary>
    Waiting,
}
