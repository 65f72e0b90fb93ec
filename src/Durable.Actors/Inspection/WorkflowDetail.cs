namespace Durable.Actors;

/// <summary>A workflow's status with what the status leaves out (<see cref="DurableWorkflows.GetDetailAsync"/>).</summary>
/// <param name="Status">Its status, as <see cref="DurableWorkflows.GetStatusAsync"/> reads it.</param>
/// <param name="InputJson">Its input as recorded, JSON.</param>
/// <param name="RunStarts">When each recorded run started (the start, and each resume of a failed run), oldest first: every step completed before a run's start replays in it.</param>
/// <param name="ParentId">The parent workflow's id when it was started as a child workflow; null otherwise.</param>
public sealed record WorkflowDetail(WorkflowStatus Status, string InputJson, IReadOnlyList<DateTimeOffset> RunStarts, string? ParentId)
{
    /// <summary>Its durable waits (timers, signal waits, child waits) in key order: what its steps' records leave out.</summary>
    public IReadOnlyList<WaitRecord> Waits { get; init; } = [];
}
