using System.Text.Json;

namespace Durable.Actors;

/// <summary>The workflow's run ended with a result.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="ResultJson">The result as JSON.</param>
public sealed record WorkflowCompleted(string WorkflowId, string ResultJson)
{
    private static readonly JsonSerializerOptions WebDefaults = new(JsonSerializerDefaults.Web);

    /// <summary>The options the result was written with (the registry's), when the reply comes from this process.</summary>
    internal JsonSerializerOptions? JsonOptions { get; init; }

    /// <summary>Reads the result as <typeparamref name="T"/>, with the options of the <see cref="WorkflowRegistry"/> that wrote it.</summary>
    /// <param name="options">Other options; needed only for a reply that crossed a process boundary from a registry with its own options.</param>
    public T? GetResult<T>(JsonSerializerOptions? options = null) =>
        JsonSerializer.Deserialize<T>(ResultJson, options ?? JsonOptions ?? WebDefaults);

    /// <summary>Equal when the workflow and the result are.</summary>
    public bool Equals(WorkflowCompleted? other) =>
        other is not null && WorkflowId == other.WorkflowId && ResultJson == other.ResultJson;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(WorkflowId, ResultJson);
}

/// <summary>The workflow's run ended with an error; resuming runs it again from its failed step.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Error">What failed, naming the step where there is one.</param>
public sealed record WorkflowFailed(string WorkflowId, string Error);

/// <summary>Nothing was started: the type is not registered, the input does not fit it, or the id is not valid.</summary>
/// <param name="WorkflowId">The workflow id asked for.</param>
/// <param name="Reason">What was wrong.</param>
public sealed record WorkflowRejected(string WorkflowId, string Reason)
{
    /// <summary>
    /// The refusal as one sentence that names the workflow once: <paramref name="refused"/> (what was not done), then the
    /// reason; or the reason alone when it names the workflow itself (<c>workflow 'x' has already ended (CANCELLED); …</c>).
    /// </summary>
    internal string Describe(string refused) =>
        Reason.Contains($"workflow '{WorkflowId}'", StringComparison.OrdinalIgnoreCase) ? Reason : $"{refused}: {Reason}";
}

/// <summary>No workflow with this id was ever started.</summary>
/// <param name="WorkflowId">The id asked for.</param>
public sealed record WorkflowNotFound(string WorkflowId);

/// <summary>A workflow's status and its step records, as the journal holds them.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="WorkflowType">Its registered type.</param>
/// <param name="Status">Where its last run stands.</param>
/// <param name="StartedAt">When it was first started.</param>
/// <param name="EndedAt">When its last run ended, if it ended.</param>
/// <param name="ResultJson">The result of its last run, if it completed.</param>
/// <param name="Error">The error of its last run, if it failed.</param>
/// <param name="Steps">Every step record, in the order the steps were first started.</param>
public sealed record WorkflowStatus(
    string WorkflowId,
    string WorkflowType,
    WorkflowRunStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? ResultJson,
    string? Error,
    IReadOnlyList<StepRecord> Steps)
{
    /// <summary>What a running workflow waits for (<c>sleeping until …</c>, <c>waiting for signal 'x' until …</c>), or null.</summary>
    public string? WaitingFor { get; init; }

    /// <summary>When the workflow is cancelled as timed out if it has not ended (its start's timeout); null when it has none.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The custom status the workflow set last (<see cref="IWorkflowContext.SetCustomStatusAsync{T}"/>), as JSON; null when it set none.</summary>
    public string? CustomStatusJson { get; init; }

    /// <summary>
    /// The custom attributes the workflow set (<see cref="IWorkflowContext.SetAttributesAsync"/>), by name: each a
    /// string, a double, a bool or a <see cref="DateTimeOffset"/> (UTC).
    /// </summary>
    public IReadOnlyDictionary<string, object> Attributes { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, object>.Empty;

    /// <summary>The workflow this one was forked from (<see cref="ForkWorkflow"/>); null when it was started.</summary>
    public string? ForkedFrom { get; init; }

    /// <summary>The key of <see cref="ForkedFrom"/> this workflow was forked at; null for a fork from the top (a restart).</summary>
    public string? ForkedFromKey { get; init; }
}

/// <summary>
/// The run waits for a timer or a signal due later than the host keeps idle workflows in memory, or the workflow is
/// paused (<see cref="PauseWorkflow"/>): it was put away.
/// </summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="WaitingFor">What it waits for, e.g. <c>sleeping until 2026-12-01T09:00:00+00:00</c>, or <c>paused (unpause it to go on)</c>.</param>
/// <param name="Until">When the wait ends on its own (the timer fires, the signal wait times out); null when only a signal ends it.</param>
/// <remarks>
/// A host with the engine running wakes it when due; a signal (<see cref="SignalWorkflow"/>) or a cancellation wakes it
/// at once. Ask again (<see cref="ResumeWorkflow"/>) to wait for the end of the workflow.
/// </remarks>
public sealed record WorkflowWaiting(string WorkflowId, string WaitingFor, DateTimeOffset? Until);

/// <summary>The workflow was cancelled (<see cref="CancelWorkflow"/>) and its run has ended; final.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Reason">The reason given with the cancellation, if any.</param>
public sealed record WorkflowCancelled(string WorkflowId, string? Reason);

/// <summary>The signal is durable in the workflow's journal; a wait for its name consumes it, now or later.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="SignalName">The signal's name.</param>
public sealed record SignalDelivered(string WorkflowId, string SignalName);

/// <summary>The cancellation is durable; the workflow's run sees it and ends as <see cref="WorkflowRunStatus.Cancelled"/>.</summary>
/// <param name="WorkflowId">The workflow.</param>
public sealed record CancellationRequested(string WorkflowId);

/// <summary>The pause is durable (<see cref="PauseWorkflow"/>): the workflow begins no new operation until it is unpaused.</summary>
/// <param name="WorkflowId">The workflow.</param>
public sealed record WorkflowPaused(string WorkflowId);

/// <summary>The end of the pause is durable (<see cref="UnpauseWorkflow"/>): the workflow goes on.</summary>
/// <param name="WorkflowId">The workflow.</param>
public sealed record WorkflowUnpaused(string WorkflowId);

/// <summary>The enqueue is durable (<see cref="EnqueueWorkflow"/>).</summary>
/// <param name="WorkflowId">The enqueued workflow: the one asked for, or the one that held the deduplication id.</param>
public sealed record WorkflowEnqueued(string WorkflowId);

/// <summary>The workflow was deleted (<see cref="PurgeWorkflow"/>): its id is free again.</summary>
/// <param name="WorkflowId">The workflow.</param>
public sealed record WorkflowPurged(string WorkflowId);

/// <summary>Where a workflow's last run stands.</summary>
public enum WorkflowRunStatus
{
    /// <summary>Started and not ended: running now, or left unfinished by a crash or a stop.</summary>
    Running,

    /// <summary>The last run returned a result.</summary>
    Completed,

    /// <summary>The last run threw; resume to run it again.</summary>
    Failed,

    /// <summary>Cancelled on request (<see cref="CancelWorkflow"/>); final, like completed.</summary>
    Cancelled,

    /// <summary>Running, and paused (<see cref="PauseWorkflow"/>): it begins nothing new until unpaused.</summary>
    Paused,

    /// <summary>Enqueued (<see cref="EnqueueWorkflow"/>): durable, and waiting for its queue to admit it; none of its code ran yet.</summary>
    Enqueued,
}

/// <summary>What a <see cref="WorkflowRunStatus"/> says of a workflow's end.</summary>
public static class WorkflowRunStatusExtensions
{
    /// <summary>Not ended: running, paused or enqueued (what recovery resumes, what a purge leaves).</summary>
    public static bool IsActive(this WorkflowRunStatus status) =>
        status is WorkflowRunStatus.Running or WorkflowRunStatus.Paused or WorkflowRunStatus.Enqueued;
}

/// <summary>One step's record.</summary>
/// <param name="Key">The step key, <c>workflowId:sequence</c>.</param>
/// <param name="StepId">The step id the code gave.</param>
/// <param name="Status">IN_PROGRESS, COMPLETED or FAILED.</param>
/// <param name="Attempts">How many times its body was started.</param>
/// <param name="StartedAt">When its last attempt started.</param>
/// <param name="EndedAt">When its last attempt ended, if it ended.</param>
/// <param name="ResultJson">Its result, if it completed.</param>
/// <param name="Error">The error of its last attempt, if it is FAILED; null otherwise (every failed attempt is in <paramref name="Failures"/>).</param>
/// <param name="Failures">Every failed attempt with its error, oldest first.</param>
public sealed record StepRecord(
    string Key,
    string StepId,
    StepStatus Status,
    int Attempts,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? ResultJson,
    string? Error,
    IReadOnlyList<StepFailure> Failures)
{
    /// <summary>When the last attempt's body last sent a heartbeat (<see cref="StepExecution.Heartbeat()"/>) as recorded; null when it sent none.</summary>
    public DateTimeOffset? LastHeartbeatAt { get; init; }

    /// <summary>The details of the step's last heartbeat that had details, of any attempt, as JSON; null when none.</summary>
    public string? HeartbeatDetailsJson { get; init; }
}

/// <summary>One failed attempt of a step.</summary>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="StartedAt">When this attempt started.</param>
/// <param name="At">When its failure was recorded: when its body threw, or, for a zombie left by a crash, when it was found stale (the crashed attempt's own end is unknown).</param>
/// <param name="Error">What it failed with: the exception, or <c>stale: …</c> for a zombie left by a crash.</param>
public sealed record StepFailure(int Attempt, DateTimeOffset StartedAt, DateTimeOffset At, string Error)
{
    /// <summary>
    /// Whether this attempt was a zombie left by a crash (found IN_PROGRESS past the stale timeout and marked FAILED),
    /// not a body that threw: then <see cref="At"/> is when it was found, not when it ended.
    /// </summary>
    public bool IsZombie => Journal.WorkflowJournal.IsStale(Error);
}

/// <summary>A step record's state.</summary>
public enum StepStatus
{
    /// <summary>IN_PROGRESS: the body started and has not ended (or a crash ended it).</summary>
    InProgress,

    /// <summary>COMPLETED: the result is recorded; the body never runs again.</summary>
    Completed,

    /// <summary>FAILED: the last attempt threw or went stale; the next run tries again.</summary>
    Failed,
}
