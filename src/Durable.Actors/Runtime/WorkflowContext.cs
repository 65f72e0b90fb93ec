using System.Text.Json;
using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// The context of one run of a workflow method. It runs outside the actor's message loop and asks the workflow actor
/// for every step decision and record, so the actor stays the single writer of the journal.
/// </summary>
internal sealed class WorkflowContext(
    string workflowId,
    int runId,
    IActorRef workflowActor,
    WorkflowRuntime runtime,
    CancellationToken cancellationToken) : IWorkflowContext
{
    private const string TopLevelScope = "";

    public string WorkflowId => workflowId;

    public CancellationToken CancellationToken => cancellationToken;

    /// <summary>The last step whose body failed, so that an uncaught failure can name its step.</summary>
    public (Exception Error, string Key, string StepId)? LastStepFailure { get; private set; }

    public async Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepId);
        ArgumentNullException.ThrowIfNull(body);
        var json = runtime.Registry.JsonOptions;

        var decided = NewReply<StepDecision>();
        workflowActor.Tell(new BeginStep(runId, TopLevelScope, stepId, decided));
        var decision = await decided.Task.WaitAsync(cancellationToken).ConfigureAwait(false);

        if (decision is ReplayStep replay)
        {
            var recorded = JsonSerializer.Deserialize<T>(replay.ResultJson, json)!;
            runtime.Report(new StepReport(workflowId, replay.Key, stepId, 0, StepReportKind.Replayed));
            return recorded;
        }

        var (key, attempt) = (ExecuteStep)decision;
        runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Starting));

        T value;
        try
        {
            value = await body(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await RecordFailureAsync(key, stepId, attempt, e, $"{e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            throw;
        }

        string resultJson;
        T result;
        try
        {
            // Returning the value read back from its record makes the first run see exactly what a replay will.
            resultJson = JsonSerializer.Serialize(value, json);
            result = JsonSerializer.Deserialize<T>(resultJson, json)!;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            var error = new StepResultNotSerializableException(key, stepId, typeof(T), e);
            await RecordFailureAsync(key, stepId, attempt, error, error.Message).ConfigureAwait(false);
            throw error;
        }

        var completed = NewReply();
        workflowActor.Tell(new CompleteStep(runId, key, resultJson, completed));
        await completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Executed));
        return result;
    }

    private async Task RecordFailureAsync(string key, string stepId, int attempt, Exception error, string message)
    {
        var failed = NewReply();
        workflowActor.Tell(new FailStep(runId, key, message, failed));
        await failed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        LastStepFailure = (error, key, stepId);
        runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed, message));
    }

    private static TaskCompletionSource<T> NewReply<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource NewReply() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
