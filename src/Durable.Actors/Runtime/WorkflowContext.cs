using System.Text.Json;
using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// The context of one run of a workflow method, or of one branch of a parallel block in it. It runs outside the
/// actor's message loop and asks the workflow actor for every step decision and record, so the actor stays the single
/// writer of the journal.
/// </summary>
/// <remarks>
/// <c>scope</c> is the key prefix of this context's steps: empty at the top level, <c>"3."</c> in the branch reserved
/// as 3. <c>runToken</c> is cancelled when the workflow actor stops, and every wait on the actor observes it;
/// <c>cancellationToken</c> goes to step bodies: the run's token, or the block's in a branch.
/// </remarks>
internal sealed class WorkflowContext(
    string workflowId,
    int runId,
    IActorRef workflowActor,
    WorkflowRuntime runtime,
    string scope,
    CancellationToken runToken,
    CancellationToken cancellationToken) : IWorkflowContext
{
    public string WorkflowId => workflowId;

    public CancellationToken CancellationToken => cancellationToken;

    /// <summary>How long a completion waits for a next record to ride with before it is written on its own.</summary>
    private static readonly TimeSpan IdleFlush = TimeSpan.FromMilliseconds(10);

    private readonly Lock _gate = new();
    private List<PendingCompletion> _completions = [];

    /// <summary>The last step whose body failed, so that an uncaught failure can name its step.</summary>
    public (Exception Error, string Key, string StepId)? LastStepFailure { get; private set; }

    public WorkflowContext ForBranch(string branchScope, CancellationToken blockToken) =>
        new(workflowId, runId, workflowActor, runtime, branchScope, runToken, blockToken);

    public async Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepId);
        ArgumentNullException.ThrowIfNull(body);
        cancellationToken.ThrowIfCancellationRequested();
        var policy = retry ?? runtime.Settings.DefaultRetry;

        var decided = NewReply<StepDecision>();
        var carried = TakeCompletions();
        workflowActor.Tell(new BeginStep(runId, scope, stepId, carried, decided));
        var decision = await decided.Task.WaitAsync(runToken).ConfigureAwait(false);
        ReportExecuted(carried);

        for (var attemptsInRun = 1; ; attemptsInRun++)
        {
            if (decision is ReplayStep replay)
            {
                var recorded = JsonSerializer.Deserialize<T>(replay.ResultJson, runtime.Registry.JsonOptions)!;
                runtime.Report(new StepReport(workflowId, replay.Key, stepId, 0, StepReportKind.Replayed));
                return recorded;
            }

            var (key, attempt) = (ExecuteStep)decision;
            try
            {
                return await ExecuteAsync(key, stepId, attempt, body).ConfigureAwait(false);
            }
            catch (Exception e) when (policy.Retries(e, attemptsInRun) && !cancellationToken.IsCancellationRequested)
            {
                var delay = policy.DelayAfter(attemptsInRun, Random.Shared);
                runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed,
                    $"{ErrorText.Of(e)}; retrying in {delay.TotalSeconds:0.###}s (attempt {attemptsInRun + 1} of {policy.MaxAttempts} in this run)"));
                // The clock's delay, so that tests move time instead of waiting.
                await Task.Delay(delay, runtime.Clock, cancellationToken).ConfigureAwait(false);
                decided = NewReply<StepDecision>();
                workflowActor.Tell(new DecideStepAgain(runId, key, stepId, decided));
                decision = await decided.Task.WaitAsync(runToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed, ErrorText.Of(e)));
                throw;
            }
        }
    }

    /// <summary>Runs one attempt whose IN_PROGRESS record is durable, and records how it ended.</summary>
    private async Task<T> ExecuteAsync<T>(string key, string stepId, int attempt, Func<CancellationToken, Task<T>> body)
    {
        var json = runtime.Registry.JsonOptions;
        runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Starting));
        // The actor may have stopped while the decision travelled: then nothing the body does could be recorded.
        runToken.ThrowIfCancellationRequested();

        T value;
        try
        {
            value = await body(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await RecordFailureAsync(key, stepId, e, ErrorText.Of(e)).ConfigureAwait(false);
            throw;
        }

        string resultJson;
        T result;
        try
        {
            // Returning the value read back from its record makes the first run see exactly what a replay will.
            resultJson = JsonSerializer.Serialize(value, json);
            StepResultTooLargeException.ThrowIfTooLarge(key, stepId, resultJson, runtime.Settings.MaxStepResultSize);
            result = JsonSerializer.Deserialize<T>(resultJson, json)!;
        }
        catch (StepResultTooLargeException e)
        {
            await RecordFailureAsync(key, stepId, e, e.Message).ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            var error = new StepResultNotSerializableException(key, stepId, typeof(T), e);
            await RecordFailureAsync(key, stepId, error, error.Message).ConfigureAwait(false);
            throw error;
        }

        // Written with the next record of this context, in one atomic write: a crash before it re-runs the step,
        // exactly as a crash before a COMPLETED record of its own would.
        var completion = new PendingCompletion(key, stepId, attempt, resultJson);
        lock (_gate)
            _completions.Add(completion);
        _ = FlushIfIdleAsync(completion);
        return result;
    }

    /// <summary>Writes a completion on its own when the workflow asks for nothing else for a while (it awaits something outside steps).</summary>
    private async Task FlushIfIdleAsync(PendingCompletion completion)
    {
        await Task.Delay(IdleFlush, CancellationToken.None).ConfigureAwait(false);
        bool pending;
        lock (_gate)
            pending = _completions.Contains(completion);
        if (!pending)
            return;
        try
        {
            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            // The run ended (its end wrote the completion) or its actor stopped (a resume runs the step again).
        }
    }

    /// <summary>Takes the completions not written yet; whoever takes them writes them.</summary>
    public IReadOnlyList<PendingCompletion> TakeCompletions()
    {
        lock (_gate)
        {
            if (_completions.Count == 0)
                return [];
            var taken = _completions;
            _completions = [];
            return taken;
        }
    }

    /// <summary>Writes the completions not written yet on their own: a branch that ended has no next record.</summary>
    public async Task FlushAsync()
    {
        var completions = TakeCompletions();
        if (completions.Count == 0)
            return;
        var written = NewReply();
        workflowActor.Tell(new CompleteSteps(runId, completions, written));
        await written.Task.WaitAsync(runToken).ConfigureAwait(false);
        ReportExecuted(completions);
    }

    private void ReportExecuted(IReadOnlyList<PendingCompletion> completions)
    {
        foreach (var c in completions)
            runtime.Report(new StepReport(workflowId, c.Key, c.StepId, c.Attempt, StepReportKind.Executed));
    }

    public async Task<IReadOnlyList<T>> ParallelAsync<T>(IReadOnlyList<Func<IWorkflowContext, Task<T>>> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Count == 0)
            return [];
        cancellationToken.ThrowIfCancellationRequested();

        using var block = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var erased = branches.Select(branch => (Func<IWorkflowContext, Task<object?>>)(async c => await branch(c).ConfigureAwait(false))).ToList();
        var started = NewReply<IReadOnlyList<ParallelBranch>>();
        var carried = TakeCompletions();
        workflowActor.Tell(new BeginParallel(runId, scope, carried, erased, this, block.Token, started));
        var running = await started.Task.WaitAsync(runToken).ConfigureAwait(false);
        ReportExecuted(carried);

        ParallelBranch? firstFailure = null;
        var completions = running.Select(async branch =>
        {
            try
            {
                return await branch.Completion.Task.ConfigureAwait(false);
            }
            catch
            {
                if (Interlocked.CompareExchange(ref firstFailure, branch, null) is null)
                    await block.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }).ToList();

        try
        {
            // Waits for every branch, so that no cancelled branch is still running or recording when the block ends.
            await Task.WhenAll(completions).WaitAsync(runToken).ConfigureAwait(false);
        }
        catch when (firstFailure is not null)
        {
        }

        if (firstFailure is { } failed)
            throw Describe(failed, running.Count);
        return completions.Select(c => (T)c.Result!).ToList();
    }

    private static Exception Describe(ParallelBranch failed, int branches)
    {
        var error = failed.Completion.Task.Exception!.InnerException!;
        if (error is ParallelBranchFailedException nested)
            return nested;
        var step = failed.Context.LastStepFailure is { } f && ReferenceEquals(f.Error, error) ? f : default((Exception, string Key, string StepId)?);
        return new ParallelBranchFailedException(failed.Key, failed.Number, branches, step?.Key, step?.StepId, error);
    }

    private async Task RecordFailureAsync(string key, string stepId, Exception error, string message)
    {
        var failed = NewReply();
        workflowActor.Tell(new FailStep(runId, key, message, failed));
        await failed.Task.WaitAsync(runToken).ConfigureAwait(false);
        LastStepFailure = (error, key, stepId);
    }

    private static TaskCompletionSource<T> NewReply<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource NewReply() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
