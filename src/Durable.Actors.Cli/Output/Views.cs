using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Durable.Actors.Journal;

namespace Durable.Actors.Cli.Output;

// The JSON shapes (this project's README, "JSON output"): status and list print StatusView; history prints the same
// fields and the steps and waits.

internal sealed record StatusView(
    string WorkflowId, string WorkflowType, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
    int StepCount, string? WaitingFor)
{
    // What the journal adds to the index's columns; absent when not set (and from list, which reads the index).
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Deadline { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? CustomStatus { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFromKey { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, object>? Attributes { get; init; }

    public static StatusView From(WorkflowStatus s) =>
        new(s.WorkflowId, s.WorkflowType, Text.WorkflowStatusName(s.Status), s.StartedAt, s.EndedAt, Views.Parse(s.ResultJson), s.Error, s.Steps.Count, s.WaitingFor)
        {
            Deadline = s.Deadline,
            CustomStatus = Views.Parse(s.CustomStatusJson),
            ForkedFrom = s.ForkedFrom,
            ForkedFromKey = s.ForkedFromKey,
            Attributes = s.Attributes.Count > 0 ? s.Attributes : null,
        };

    /// <summary>A row of the workflow index, with the result and the wait that <c>list --json</c> reads from the journal.</summary>
    public static StatusView From(WorkflowSummary s, string? resultJson, string? waitingFor) =>
        new(s.WorkflowId, s.WorkflowType, Text.WorkflowStatusName(s.Status), s.StartedAt, s.EndedAt, Views.Parse(resultJson), s.Error, s.StepCount, waitingFor);
}

internal sealed record HistoryView(
    string WorkflowId, string WorkflowType, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
    int StepCount, string? WaitingFor, IReadOnlyList<StepView> Steps, IReadOnlyList<WaitView> Waits)
{
    public static HistoryView From(WorkflowStatus s, IReadOnlyList<WaitRecord> waits)
    {
        var w = StatusView.From(s);
        return new(w.WorkflowId, w.WorkflowType, w.Status, w.StartedAt, w.EndedAt, w.Result, w.Error, w.StepCount, w.WaitingFor,
            s.Steps.Select(StepView.From).ToList(), waits.Select(WaitView.From).ToList())
        {
            Deadline = w.Deadline,
            CustomStatus = w.CustomStatus,
            ForkedFrom = w.ForkedFrom,
            ForkedFromKey = w.ForkedFromKey,
            Attributes = w.Attributes,
        };
    }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Deadline { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? CustomStatus { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ForkedFromKey { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, object>? Attributes { get; init; }
}

/// <summary>
/// A durable wait: <c>kind</c> is <c>timer</c>, <c>signal</c> or <c>child</c>; <c>name</c> the signal's name or the
/// child's id (null for a timer); <c>dueAt</c> when the timer fires or the wait times out; <c>payload</c> what it received.
/// </summary>
internal sealed record WaitView(
    string Key, string Kind, string? Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? DueAt, DateTimeOffset? EndedAt, JsonNode? Payload)
{
    public static WaitView From(WaitRecord w) => new(
        w.Key, w.Kind switch { WaitKind.Timer => "timer", WaitKind.Child => "child", _ => "signal" }, w.Name, Text.WaitStatusName(w),
        w.StartedAt, w.DueAt, w.EndedAt, Views.Parse(w.PayloadJson));
}

internal sealed record StepView(
    string Key, string StepId, string Status, int Attempts, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, JsonNode? Result, string? Error,
    IReadOnlyList<AttemptView> Failures)
{
    /// <summary>When the last attempt last sent a heartbeat; absent when it sent none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? LastHeartbeatAt { get; init; }

    /// <summary>The details of the step's last heartbeat with details; absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? HeartbeatDetails { get; init; }

    public static StepView From(StepRecord x) => new(
        x.Key, x.StepId, Text.StepStatusName(x.Status), x.Attempts, x.StartedAt, x.EndedAt, Views.Parse(x.ResultJson), x.Error,
        x.Failures.Select(f => new AttemptView(f.Attempt, f.StartedAt, Text.AttemptEnd(f), f.At, f.Error)).ToList())
    {
        LastHeartbeatAt = x.LastHeartbeatAt,
        HeartbeatDetails = Views.Parse(x.HeartbeatDetailsJson),
    };
}

/// <summary>A failed attempt: <c>endedAt</c> is null for a zombie left by a crash (it ended at an unknown time); <c>recordedAt</c> is when its failure was written.</summary>
internal sealed record AttemptView(int Attempt, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, DateTimeOffset RecordedAt, string Error);

internal static class Views
{
    public static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);
}
