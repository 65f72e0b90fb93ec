using System.Text.Json;
using Durable.Actors.Journal;
using Durable.Actors.Runtime;

namespace Durable.Actors;

/// <summary>
/// The attempt of a step whose body runs now, for a body that reports progress: read it as
/// <see cref="Current"/> inside the body of a step with a <see cref="StepOptions.HeartbeatTimeout"/>.
/// </summary>
/// <example>
/// <code>
/// await ctx.StepAsync("copy-files", async ct =>
/// {
///     var step = StepExecution.Current;
///     for (var i = step.GetHeartbeatDetails&lt;int&gt;(); i &lt; files.Count; i++)
///     {
///         await CopyAsync(files[i], ct);
///         step.Heartbeat(i + 1);
///     }
/// }, new StepOptions { HeartbeatTimeout = TimeSpan.FromSeconds(30) });
/// </code>
/// </example>
public sealed class StepExecution
{
    private static readonly AsyncLocal<StepExecution?> Running = new();

    private readonly StepHeartbeats _heartbeats;
    private readonly JsonSerializerOptions _json;
    private readonly string? _recordedDetails;

    internal StepExecution(string workflowId, string key, string stepId, int attempt, StepHeartbeats heartbeats, string? recordedDetails, JsonSerializerOptions json)
    {
        WorkflowId = workflowId;
        Key = key;
        StepId = stepId;
        Attempt = attempt;
        _heartbeats = heartbeats;
        _recordedDetails = recordedDetails;
        _json = json;
    }

    /// <summary>
    /// The step attempt whose body runs on this flow of execution. Throws <see cref="InvalidOperationException"/>
    /// outside the body of a step with a <see cref="StepOptions.HeartbeatTimeout"/>.
    /// </summary>
    public static StepExecution Current => Running.Value ?? throw new InvalidOperationException(
        "StepExecution.Current is set only inside the body of a step whose StepOptions set a HeartbeatTimeout.");

    internal static void Enter(StepExecution execution) => Running.Value = execution;

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>The step key (<c>workflowId:sequence</c>).</summary>
    public string Key { get; }

    /// <summary>The step id.</summary>
    public string StepId { get; }

    /// <summary>This attempt, counting from 1 over the step's life.</summary>
    public int Attempt { get; }

    /// <summary>
    /// The body's token (the one it was given): cancelled when this attempt's heartbeats stop for its timeout, when the
    /// step times out or the workflow is cancelled, and when the workflow's actor stops (its heartbeats can no longer be recorded).
    /// </summary>
    public CancellationToken CancellationToken => _heartbeats.Token;

    /// <summary>Reports that the body makes progress; the step is not stale while heartbeats come.</summary>
    public void Heartbeat() => _heartbeats.Beat(null);

    /// <summary>
    /// Reports progress with <paramref name="details"/> (JSON of at most 16 KiB with the registry's options), recorded
    /// so that a later attempt of this step reads them (<see cref="GetHeartbeatDetails{T}"/>) and goes on from there.
    /// Recorded at most about three times per heartbeat timeout; the last details before an attempt fails are recorded.
    /// </summary>
    /// <typeparam name="T">The details' type.</typeparam>
    /// <param name="details">Where the body stands.</param>
    public void Heartbeat<T>(T details)
    {
        var json = ValueJson.Serialize(details, _json);
        if (System.Text.Encoding.UTF8.GetByteCount(json) > StepHeartbeats.MaxDetailsBytes)
            throw new ArgumentException($"The heartbeat details of step '{StepId}' ({Key}) are over the limit of {StepHeartbeats.MaxDetailsBytes:N0} bytes of JSON.", nameof(details));
        _heartbeats.Beat(json);
    }

    /// <summary>
    /// The details of the last heartbeat with details of this step: of this attempt, or else of an earlier one (of this
    /// run or a run before); <c>default</c> when none was recorded.
    /// </summary>
    /// <typeparam name="T">The details' type.</typeparam>
    public T? GetHeartbeatDetails<T>() =>
        (_heartbeats.LastDetails ?? _recordedDetails) is { } json ? ValueJson.Deserialize<T>(json, _json) : default;

    /// <summary>Whether this step has heartbeat details (<see cref="GetHeartbeatDetails{T}"/>).</summary>
    public bool HasHeartbeatDetails => (_heartbeats.LastDetails ?? _recordedDetails) is not null;
}
