using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Journal;
using Durable.Actors.Observability;

namespace Durable.Actors.Runtime;

/// <summary>
/// The context of one run of a workflow method, or of one branch of a parallel block in it. It runs outside the
/// actor's message loop. What the journal recorded when the run began replays from the run's copy of it
/// (<c>history</c>) with no message; every other call goes to the workflow actor, which decides on the journal as it
/// stands and writes every record, so the actor stays the single writer of the journal.
/// </summary>
/// <remarks>
/// <c>scope</c> is the key prefix of this context's steps: empty at the top level, <c>"3."</c> in the branch reserved
/// as 3. <c>runToken</c> is cancelled when the workflow actor stops, and every wait on the actor observes it;
/// <c>cancellationToken</c> goes to step bodies: the run's token (actor stopped or workflow cancelled), or the block's
/// in a branch. <c>cancelRequested</c> fires when the workflow is cancelled. <c>incarnation</c> is that of the actor that
/// began the run (<see cref="WorkflowRequests.BeginIncarnation"/>): no step body of the run starts once a later one began.
/// </remarks>
internal sealed class WorkflowContext(
    string workflowId,
    int runId,
    IActorRef workflowActor,
    WorkflowRuntime runtime,
    WorkflowRequests requests,
    Decisions.RunHistory history,
    int incarnation,
    string scope,
    CancellationToken runToken,
    CancellationToken cancelRequested,
    CancellationToken cancellationToken) : IWorkflowContext
{
    public string WorkflowId => workflowId;

    public CancellationToken CancellationToken => cancellationToken;

    /// <summary>The telemetry of the run this context belongs to (its span, replay count, logger); null in tests that build a context alone.</summary>
    public RunTelemetry? Trace { get; init; }

    /// <summary>The last completion of this context, to write before a branch ends.</summary>
    private PendingCompletion? _lastCompletion;

    /// <summary>When the last completion was handed over (<see cref="Stopwatch"/> ticks), for the idle flush.</summary>
    private long _lastCompletionAt;

    /// <summary>1 while the host's <see cref="IdleFlushes"/> watches this context.</summary>
    private int _idleWatched;

    /// <summary>The last step whose body failed, so that an uncaught failure can name its step.</summary>
    public (Exception Error, string Key, string StepId)? LastStepFailure { get; private set; }

    public WorkflowContext ForBranch(string branchScope, CancellationToken blockToken) =>
        new(workflowId, runId, workflowActor, runtime, requests, history, incarnation, branchScope, runToken, cancelRequested, blockToken) { Trace = Trace };

    public Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry = null) =>
        RunStepAsync(stepId, body, retry, null);

    public Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, StepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Timeout is { } timeout)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, "options.Timeout");
        if (options.HeartbeatTimeout is { } heartbeat)
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeat, TimeSpan.Zero, "options.HeartbeatTimeout");
        return RunStepAsync(stepId, body, options.Retry, options.Timeout is null && options.HeartbeatTimeout is null ? null : options);
    }

    /// <summary>A step; <paramref name="timed"/>: its options when they set a timeout per attempt or a heartbeat timeout, else null.</summary>
    private Task<T> RunStepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry, StepOptions? timed)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepId);
        ArgumentNullException.ThrowIfNull(body);
        if (Stopped() is { } stopped)
            return Task.FromCanceled<T>(stopped);
        var key = history.NextStep(scope, stepId, out var completed);
        return completed is not null
            ? ReplayTask<T>(key, stepId, completed)
            : DecideAndRunAsync(key, stepId, body, retry, timed);
    }

    /// <summary>
    /// The token that stops the next step from starting, if one has fired: the block's in a branch whose block was
    /// cancelled (a sibling failed), the run's when its actor stopped.
    /// </summary>
    private CancellationToken? Stopped() =>
        cancellationToken.IsCancellationRequested && !cancelRequested.IsCancellationRequested ? cancellationToken
        : runToken.IsCancellationRequested ? runToken
        : null;

    /// <summary>
    /// A value of the workflow clock, a new id or a random number at the next key: recorded with the next record (it
    /// costs no message and no write of its own) where nothing is recorded there; replayed where it is; else asked of
    /// the actor as a step.
    /// </summary>
    private Task<T> RecordAsync<T>(string stepId, Func<T> value)
    {
        if (Stopped() is { } stopped)
            return Task.FromCanceled<T>(stopped);
        var key = history.NextStep(scope, stepId, out var completed, out var free);
        if (completed is not null)
            return ReplayTask<T>(key, stepId, completed);
        return RecordAtAsync(key, stepId, free, value);
    }

    /// <summary>
    /// Records <paramref name="value"/> at <paramref name="key"/>, taken earlier, where nothing completed:
    /// <paramref name="free"/> when nothing at all is recorded there (see <see cref="RecordAsync{T}"/>).
    /// </summary>
    private Task<T> RecordAtAsync<T>(string key, string stepId, bool free, Func<T> value)
    {
        // After a cancellation a new value is asked as a step, whose rules for cleanup code and branches apply.
        if (!free || cancelRequested.IsCancellationRequested)
            return DecideAndRunAsync(key, stepId, _ => Task.FromResult(value()), RetryPolicy.None, null);

        var json = runtime.Registry.JsonOptions;
        var resultJson = ValueJson.Serialize(value(), json);
        var completion = new PendingCompletion(key, stepId, 1, resultJson, TypeNames.For<T>(), Recorded: true);
        // Refused once a later actor of this workflow began: that actor decides on the key.
        if (!requests.AddRecorded(completion, incarnation))
            return LetGoAsync<T>();
        _lastCompletion = completion;
        ArmIdleFlush();
        // Read back from its record, as a replay will read it.
        return Task.FromResult(ValueJson.Deserialize<T>(resultJson, json)!);
    }

    /// <summary>A step the run's copy of the journal did not let replay: the actor decides at <paramref name="key"/>, then the body runs or it replays.</summary>
    private async Task<T> DecideAndRunAsync<T>(string key, string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry, StepOptions? timed)
    {
        var policy = retry ?? runtime.Settings.DefaultRetry;
        var decided = NewReply<StepDecision>();
        workflowActor.Tell(new BeginStep(runId, key, stepId, decided, timed?.HeartbeatTimeout));
        var decision = await decided.Task.WaitAsync(runToken).ConfigureAwait(false);

        // After the workflow was cancelled, recorded steps still replay (the run follows its record), a new step at
        // the top level is a cleanup step: it runs, with a token that fires only when the actor stops; a new step in
        // a branch does not run.
        var bodyToken = cancellationToken;
        if (decision is ExecuteStep execute && cancelRequested.IsCancellationRequested)
        {
            if (scope.Length > 0)
            {
                var cancelled = new OperationCanceledException($"Workflow '{workflowId}' was cancelled before step '{stepId}' ({execute.Key}) started.", cancellationToken);
                StepAttempt.Start(Trace, execute.Key, stepId, execute.Attempt).Failed(cancelled, cancelled: true);
                runtime.Report(new StepReport(workflowId, execute.Key, stepId, execute.Attempt, StepReportKind.Failed, ErrorText.Of(cancelled)));
                await RecordFailureAsync(execute.Key, stepId, cancelled, ErrorText.Of(cancelled)).ConfigureAwait(false);
                throw cancelled;
            }
            bodyToken = runToken;
        }

        for (var attemptsInRun = 1; ; attemptsInRun++)
        {
            if (decision is ReplayStep replay)
                return Replay<T>(replay.Key, stepId, replay.ResultJson, replay.ResultType);

            var executing = (ExecuteStep)decision;
            var attempt = executing.Attempt;
            try
            {
                return await ExecuteAsync(key, stepId, attempt, body, timed, executing.HeartbeatDetails, bodyToken).ConfigureAwait(false);
            }
            catch (Exception e) when (policy.Retries(e, attemptsInRun, bodyToken))
            {
                var delay = policy.DelayAfter(attemptsInRun, Random.Shared);
                runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed,
                    $"{ErrorText.Of(e)}; retrying in {delay.TotalSeconds:0.###}s (attempt {attemptsInRun + 1} of {policy.MaxAttempts} in this run)"));
                await RetryDelayAsync(delay, bodyToken).ConfigureAwait(false);
                decided = NewReply<StepDecision>();
                workflowActor.Tell(new DecideStepAgain(runId, key, stepId, decided, timed?.HeartbeatTimeout));
                decision = await decided.Task.WaitAsync(runToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed, ErrorText.Of(e)));
                throw;
            }
        }
    }

    private int _retryDelays;

    /// <summary>Whether this context's code awaits a retry delay (the test kit moves time only when all code awaits something).</summary>
    public bool InRetryDelay => Volatile.Read(ref _retryDelays) > 0;

    /// <summary>
    /// A delay on the workflow clock, so that tests move time instead of waiting; it counts as awaited until the
    /// clock's timer fires (not until the code goes on a moment later).
    /// </summary>
    private async Task RetryDelayAsync(TimeSpan delay, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _retryDelays);
        using var timer = runtime.Clock.CreateTimer(_ =>
        {
            if (elapsed.TrySetResult())
                Interlocked.Decrement(ref _retryDelays);
        }, null, delay, Timeout.InfiniteTimeSpan);
        using var cancel = token.Register(() =>
        {
            if (elapsed.TrySetCanceled(token))
                Interlocked.Decrement(ref _retryDelays);
        });
        await elapsed.Task.ConfigureAwait(false);
    }

    private Task<T> ReplayTask<T>(string key, string stepId, Journal.WorkflowJournal.StepEntry completed)
    {
        try
        {
            return Task.FromResult(Replay<T>(key, stepId, completed.ResultJson!, completed.ResultType));
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    /// <summary>Returns a completed step's recorded result.</summary>
    private T Replay<T>(string key, string stepId, string resultJson, string? resultType)
    {
        T recorded;
        try
        {
            recorded = ValueJson.Deserialize<T>(resultJson, runtime.Registry.JsonOptions)!;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new StepResultUnreadableException(workflowId, key, stepId, resultType, typeof(T), e);
        }
        Trace?.Replayed();
        runtime.Report(new StepReport(workflowId, key, stepId, 0, StepReportKind.Replayed));
        return recorded;
    }

    /// <summary>Runs one attempt whose IN_PROGRESS record is durable, and records how it ended.</summary>
    private Task<T> ExecuteAsync<T>(string key, string stepId, int attempt, Func<CancellationToken, Task<T>> body, StepOptions? timed, string? heartbeatDetails, CancellationToken bodyToken)
    {
        if (timed?.HeartbeatTimeout is { } heartbeat)
            body = WithHeartbeats(body, key, stepId, attempt, heartbeat, heartbeatDetails);
        if (timed?.Timeout is { } limit)
            body = WithTimeout(body, key, stepId, attempt, limit);
        runtime.Report(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Starting));
        // The actor may have stopped while the decision travelled: then nothing the body does could be recorded.
        runToken.ThrowIfCancellationRequested();
        // Registered as running in this process until it ends and its outcome is handed over, so that a later actor of
        // this workflow that finds the step IN_PROGRESS waits for it rather than running it beside it; refused once a
        // later actor began, which may have decided on the step already.
        return requests.BodyStarting(key, incarnation)
            ? ExecuteRegisteredAsync(key, stepId, attempt, body, bodyToken)
            : LetGoAsync<T>();
    }

    /// <summary>
    /// <paramref name="body"/> under its attempt's timeout, on the workflow clock: its token is cancelled when the
    /// timeout passes, and the attempt then ends with <see cref="StepTimedOutException"/> when the body does, whether it
    /// threw (the cancellation) or returned anyway (its result is discarded).
    /// </summary>
    private Func<CancellationToken, Task<T>> WithTimeout<T>(Func<CancellationToken, Task<T>> body, string key, string stepId, int attempt, TimeSpan timeout) =>
        async bodyToken =>
        {
            using var timeoutSource = new CancellationTokenSource(timeout, runtime.Clock);
            using var attemptSource = CancellationTokenSource.CreateLinkedTokenSource(bodyToken, timeoutSource.Token);
            T value;
            try
            {
                value = await body(attemptSource.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (timeoutSource.IsCancellationRequested && !bodyToken.IsCancellationRequested)
            {
                throw new StepTimedOutException(key, stepId, attempt, timeout, e);
            }
            if (timeoutSource.IsCancellationRequested && !bodyToken.IsCancellationRequested)
                throw new StepTimedOutException(key, stepId, attempt, timeout, null);
            return value;
        };

    /// <summary>
    /// <paramref name="body"/> with heartbeats (<see cref="StepExecution"/>): its token is also cancelled when they stop
    /// for <paramref name="timeout"/>, and the attempt then ends with <see cref="StepTimedOutException"/> when the body
    /// does. The last heartbeat is sent before a failure is recorded, so that the next attempt reads its details.
    /// </summary>
    private Func<CancellationToken, Task<T>> WithHeartbeats<T>(Func<CancellationToken, Task<T>> body, string key, string stepId, int attempt, TimeSpan timeout, string? recorded) =>
        async bodyToken =>
        {
            using var heartbeats = new StepHeartbeats(workflowActor, runId, key, attempt, runtime.Clock, timeout, bodyToken, runToken);
            StepExecution.Enter(new StepExecution(workflowId, key, stepId, attempt, heartbeats, recorded, runtime.Registry.JsonOptions));
            T value;
            try
            {
                value = await body(heartbeats.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                heartbeats.Flush();
                if (heartbeats.Silent && !bodyToken.IsCancellationRequested)
                    throw new StepTimedOutException(key, stepId, attempt, timeout, e, heartbeat: true);
                throw;
            }
            if (heartbeats.Silent && !bodyToken.IsCancellationRequested)
            {
                heartbeats.Flush();
                throw new StepTimedOutException(key, stepId, attempt, timeout, null, heartbeat: true);
            }
            return value;
        };

    /// <summary>The run is let go: its actor has stopped, or stops once it drained. Nothing of it is recorded any more.</summary>
    private async Task<T> LetGoAsync<T>()
    {
        await Task.Delay(Timeout.Infinite, runToken).ConfigureAwait(false);
        throw new OperationCanceledException(runToken);
    }

    private async Task<T> ExecuteRegisteredAsync<T>(string key, string stepId, int attempt, Func<CancellationToken, Task<T>> body, CancellationToken bodyToken)
    {
        try
        {
            var json = runtime.Registry.JsonOptions;
            var traced = StepAttempt.Start(Trace, key, stepId, attempt);

            T value;
            try
            {
                runtime.Hooks.StepBodyStarting?.Invoke(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Starting));
                value = await body(bodyToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                traced.Failed(e, e is OperationCanceledException && bodyToken.IsCancellationRequested);
                runtime.Hooks.StepBodyEnded?.Invoke(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Failed), false);
                await RecordFailureAsync(key, stepId, e, ErrorText.Of(e)).ConfigureAwait(false);
                throw;
            }
            runtime.Hooks.StepBodyEnded?.Invoke(new StepReport(workflowId, key, stepId, attempt, StepReportKind.Executed), true);

            string resultJson;
            T result;
            try
            {
                // Returning the value read back from its record makes the first run see exactly what a replay will.
                resultJson = ValueJson.Serialize(value, json);
                StepResultTooLargeException.ThrowIfTooLarge(key, stepId, resultJson, runtime.Settings.MaxStepResultSize);
                result = ValueJson.Deserialize<T>(resultJson, json)!;
            }
            catch (StepResultTooLargeException e)
            {
                traced.Failed(e, cancelled: false);
                await RecordFailureAsync(key, stepId, e, e.Message).ConfigureAwait(false);
                throw;
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                var error = new StepResultNotSerializableException(key, stepId, typeof(T), e);
                traced.Failed(error, cancelled: false);
                await RecordFailureAsync(key, stepId, error, error.Message).ConfigureAwait(false);
                throw error;
            }

            // Written with the next record the actor makes, in one atomic write: a crash before it re-runs the step,
            // exactly as a crash before a COMPLETED record of its own would. It is handed over before this context asks
            // for anything else, so it can never be written after this context's next record.
            var completion = new PendingCompletion(key, stepId, attempt, resultJson, TypeNames.For<T>());
            requests.AddCompletion(completion);
            _lastCompletion = completion;
            ArmIdleFlush();
            traced.Executed();
            return result;
        }
        finally
        {
            requests.BodyEnded(key);
        }
    }

    /// <summary>
    /// Has the last completion written on its own when this context asks for nothing else for
    /// <see cref="IdleFlushes.After"/> after it (the workflow awaits something outside steps): the host's
    /// <see cref="IdleFlushes"/> watches it; a completion that a later record carried meanwhile is not written twice.
    /// </summary>
    private void ArmIdleFlush()
    {
        Volatile.Write(ref _lastCompletionAt, Stopwatch.GetTimestamp());
        if (Interlocked.CompareExchange(ref _idleWatched, 1, 0) == 0)
            runtime.IdleFlushes.Watch(this);
    }

    /// <summary>
    /// On the idle flushes' timer: true, after writing what is pending, once the last completion is
    /// <paramref name="afterTicks"/> old; false while it is younger (watched on).
    /// </summary>
    internal bool FlushIfIdle(long now, long afterTicks)
    {
        if (now - Volatile.Read(ref _lastCompletionAt) < afterTicks)
            return false;
        Volatile.Write(ref _idleWatched, 0);
        OnIdle();
        return true;
    }

    private void OnIdle()
    {
        if (Volatile.Read(ref _lastCompletion) is not { } last || !requests.IsPending(last))
            return;
        if (runtime.Hooks.BeforeIdleFlush is { } hook)
            _ = FlushAfterHookAsync(hook, last.Key);
        else
            workflowActor.Tell(new WriteCompletions(null));
    }

    private async Task FlushAfterHookAsync(Func<string, Task> hook, string key)
    {
        await hook(key).ConfigureAwait(false);
        // Only the actor takes completions: whatever this message meets, the order of records stays that of the mailbox.
        workflowActor.Tell(new WriteCompletions(null));
    }

    /// <summary>Writes this context's completions that are not durable yet: a branch that ended has no next record.</summary>
    public async Task FlushAsync()
    {
        if (_lastCompletion is not { } last || !requests.IsPending(last))
            return;
        var written = NewReply();
        workflowActor.Tell(new WriteCompletions(written));
        await written.Task.WaitAsync(runToken).ConfigureAwait(false);
    }

    public Task SleepAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return WaitForTimerAsync(null, duration, cancellationToken);
    }

    public Task SleepUntilAsync(DateTimeOffset until, CancellationToken cancellationToken = default) => WaitForTimerAsync(until, null, cancellationToken);

    private async Task WaitForTimerAsync(DateTimeOffset? until, TimeSpan? delay, CancellationToken requested)
    {
        // A timer that fired replays as fired, even after a cancellation: the replay follows what was recorded.
        var key = history.NextWait(scope, null, out var closed);
        if (closed is not null)
        {
            if (closed.Cancelled)
                throw WaitCancelledError(key, requested);
            return;
        }
        var fired = NewReply();
        workflowActor.Tell(new BeginTimer(runId, key, scope, until, delay, fired, Activity.Current?.Context ?? default));
        await AwaitWaitAsync(fired.Task, key, requested).ConfigureAwait(false);
    }

    public async Task<SignalResult<T>> WaitForSignalAsync<T>(string signalName, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signalName);
        if (timeout is { } t)
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero);
        var key = history.NextWait(scope, signalName, out var recorded);
        SignalOutcome outcome;
        if (recorded is not null)
        {
            if (recorded.Cancelled)
                throw WaitCancelledError(key, cancellationToken);
            outcome = new SignalOutcome(key, recorded.PayloadJson, recorded.TimedOut);
        }
        else
        {
            var ended = NewReply<SignalOutcome>();
            workflowActor.Tell(new BeginSignalWait(runId, key, scope, signalName, timeout, ended, Activity.Current?.Context ?? default));
            await AwaitWaitAsync(ended.Task, key, cancellationToken).ConfigureAwait(false);
            outcome = ended.Task.Result;
        }
        if (outcome.TimedOut)
            return new SignalResult<T>(false, default);
        try
        {
            return new SignalResult<T>(true, JsonSerializer.Deserialize<T>(outcome.PayloadJson ?? "null", runtime.Registry.JsonOptions));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new SignalPayloadException(workflowId, outcome.Key, signalName, typeof(T), e);
        }
    }

    /// <summary>
    /// Awaits the actor's answer to the wait begun at <paramref name="key"/>. The wait observes
    /// <paramref name="requested"/>, or by default this context's token in a branch (a failed sibling, a lost race); the
    /// top-level code's waits end with the workflow's cancellation, which the actor applies to all of them. A cancelled
    /// token asks the actor to cancel the wait: the actor decides, in its order, whether the wait ended first, so the
    /// outcome is the one it records.
    /// </summary>
    private async Task AwaitWaitAsync(Task answered, string key, CancellationToken requested)
    {
        var token = requested.CanBeCanceled ? requested : scope.Length > 0 ? cancellationToken : default;
        var registration = token.CanBeCanceled
            ? token.Register(static state =>
            {
                var (context, key) = ((WorkflowContext, string))state!;
                context.CancelWait(key);
            }, (this, key))
            : default;
        try
        {
            await answered.WaitAsync(runToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (token.IsCancellationRequested && !runToken.IsCancellationRequested && answered.IsCanceled)
        {
            throw new OperationCanceledException($"The wait at {key} of workflow '{workflowId}' was cancelled.", e, token);
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Asks the actor to cancel the wait at <paramref name="key"/>, unless the run is over (its waits with it).</summary>
    private void CancelWait(string key)
    {
        if (!runToken.IsCancellationRequested)
            workflowActor.Tell(new CancelWait(runId, key));
    }

    private OperationCanceledException WaitCancelledError(string key, CancellationToken requested) =>
        new($"The wait at {key} of workflow '{workflowId}' was cancelled.",
            requested.CanBeCanceled ? requested : scope.Length > 0 ? cancellationToken : CancellationToken);

    /// <summary>The step id a race's winner is recorded under (a recorded value: the winner's index).</summary>
    internal const string WhenAnyStepId = "durable.when-any";

    public async Task<int> WhenAnyAsync(params Func<IWorkflowContext, Task>[] branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Length == 0)
            throw new ArgumentException("A race needs at least one branch.", nameof(branches));
        if (scope.Length > 0 || !cancelRequested.IsCancellationRequested)
            cancellationToken.ThrowIfCancellationRequested();
        runToken.ThrowIfCancellationRequested();

        var count = branches.Length;
        var (keys, winnerKey) = history.NextRace(scope, count, WhenAnyStepId, out var recorded, out var free);
        int? recordedWinner = null;
        if (recorded is not null)
        {
            var winner = Replay<int>(winnerKey, WhenAnyStepId, recorded.ResultJson!, recorded.ResultType);
            if (winner < 0 || winner >= count)
                throw new WorkflowNondeterminismException(workflowId, winnerKey, WhenAnyStepId, WhenAnyStepId,
                    $"the winner of a race as branch {winner + 1}", $"a race of {count} branches");
            recordedWinner = winner;
        }

        // Each branch has its own token: the losers' are cancelled once the winner is known (from the start, on a
        // replay that has it recorded), so their waits are recorded as cancelled and their steps stop.
        var sources = new CancellationTokenSource[count];
        for (var i = 0; i < count; i++)
        {
            sources[i] = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (recordedWinner is { } w && i != w)
                sources[i].Cancel();
        }
        var trace = Trace;
        var parent = Activity.Current;
        var erased = branches.Select(branch => (Func<IWorkflowContext, Task<object?>>)(async c =>
        {
            using var traced = trace?.Enter(parent);
            await branch(c).ConfigureAwait(false);
            return null;
        })).ToList();
        var started = NewReply<IReadOnlyList<ParallelBranch>>();
        workflowActor.Tell(new BeginParallel(runId, keys, erased, this, started, sources.Select(s => s.Token).ToList(), Race: true));
        IReadOnlyList<ParallelBranch> running;
        try
        {
            running = await started.Task.WaitAsync(runToken).ConfigureAwait(false);
        }
        catch
        {
            foreach (var source in sources)
                source.Dispose();
            throw;
        }
        var completions = running.Select(b => (Task)b.Completion.Task).ToArray();
        // The sources live until every branch has ended: a loser may still be stopping after the race returned.
        _ = Task.WhenAll(completions).ContinueWith(static (_, state) =>
        {
            foreach (var source in (CancellationTokenSource[])state!)
                source.Dispose();
        }, sources, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        int won;
        if (recordedWinner is { } replayed)
            won = replayed;
        else
        {
            var first = await Task.WhenAny(completions).WaitAsync(runToken).ConfigureAwait(false);
            won = Array.IndexOf(completions, first);
            for (var i = 0; i < count; i++)
            {
                if (i == won)
                    continue;
                try
                {
                    sources[i].Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // Every branch had ended already.
                }
            }
            // Recorded with the next record, as a recorded value: nothing that follows the race is durable without it.
            await RecordAtAsync(winnerKey, WhenAnyStepId, free, () => won).ConfigureAwait(false);
        }
        // The winner's outcome: what it returned, or what it threw.
        await completions[won].WaitAsync(runToken).ConfigureAwait(false);
        return won;
    }

    /// <summary>Children started by this context so far: the default child ids count them in call order.</summary>
    private int _children;

    public async Task<TResult> RunChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true)
    {
        var child = await StartChildAsync<TInput, TResult>(workflowType, input, childId, cancelWithParent).ConfigureAwait(false);
        return await child.GetResultAsync().ConfigureAwait(false);
    }

    public async Task<ChildWorkflow<TResult>> StartChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        var id = childId ?? $"{workflowId}/{scope}{++_children}";
        var inputJson = JsonSerializer.Serialize(input, runtime.Registry.JsonOptions);
        // Starting is idempotent (an existing id is not started again), so a step is enough to start it once.
        try
        {
            await StepAsync(ChildSignals.StartStepId(id), async ct =>
            {
                // Sent again on a cluster until answered: the child's node may die with the request (a start is idempotent).
                // A child inherits this workflow's deadline: it times out with it.
                var begin = new BeginWorkflow(id, workflowType, inputJson, workflowId, Telemetry.CurrentTraceParent(), Deadline: history.Deadline,
                    CancelWithParent: cancelWithParent);
                var reply = await Resending.AskAsync(runtime.Coordinator, begin, runtime.ResendAfter, ct).ConfigureAwait(false);
                return reply switch
                {
                    WorkflowBegun => id,
                    WorkflowRejected rejected => throw new ChildWorkflowFailedException(id, workflowType, "was not started", rejected.Reason),
                    _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to the start of child workflow '{id}'."),
                };
            }, RetryPolicy.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancelWithParent && cancelRequested.IsCancellationRequested)
        {
            // The parent was cancelled while the start was under way: the start was sent and goes on without the step
            // (the child may begin a moment later), so the child is cancelled as well; the cancel follows the start on
            // the same way to the child, so it never overtakes it.
            CancelChild(id);
            throw;
        }
        // Cancelling the parent cancels the child, whatever the parent does then: waits for it, for something else, or
        // ends. Registered on every run, replays included: a run after the cancellation asks again (idempotent).
        var cancelling = cancelWithParent ? cancelRequested.Register(() => CancelChild(id)) : default;
        return new ChildWorkflow<TResult>(id, token => AwaitChildAsync<TResult>(id, workflowType, cancelling, token));
    }

    /// <summary>Waits durably for the child's end, as for the signal it sends when it ends.</summary>
    private async Task<TResult> AwaitChildAsync<TResult>(string id, string workflowType, CancellationTokenRegistration cancelling, CancellationToken token)
    {
        var ended = await WaitForSignalAsync<ChildOutcome>(ChildSignals.For(id), null, token).ConfigureAwait(false);
        // The child has ended: a later cancellation of the parent has nothing to cancel.
        await cancelling.DisposeAsync().ConfigureAwait(false);
        var outcome = ended.Payload!;
        return outcome.Status switch
        {
            "COMPLETED" => JsonSerializer.Deserialize<TResult>(outcome.ResultJson ?? "null", runtime.Registry.JsonOptions)!,
            "CANCELLED" => throw new ChildWorkflowFailedException(id, workflowType, "was cancelled", outcome.Error ?? "cancelled"),
            _ => throw new ChildWorkflowFailedException(id, workflowType, "failed", outcome.Error ?? "failed"),
        };
    }

    /// <summary>Cancels a child of this cancelled workflow (idempotent: a replay may ask again; one that ended refuses it).</summary>
    private void CancelChild(string id)
    {
        var cancel = new CancelWorkflow(id, ChildSignals.ParentCancelled(workflowId));
        // On a cluster, sent again until the child's node answers: a delivery id makes the resends one request.
        runtime.TellWorkflow(runtime.ResendAfter is null ? cancel : cancel with { DeliveryId = Guid.NewGuid().ToString("N") });
    }

    public async Task<bool> PatchedAsync(string patchId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(patchId);
        runToken.ThrowIfCancellationRequested();
        var decision = history.Patch(scope, patchId, runtime.Clock.GetUtcNow());
        if (decision.Outcome != Decisions.PatchOutcome.New)
            return decision.Outcome == Decisions.PatchOutcome.Recorded;
        var decided = NewReply<bool>();
        workflowActor.Tell(new BeginPatch(runId, decision.Events, decided));
        return await decided.Task.WaitAsync(runToken).ConfigureAwait(false);
    }

    public Task<DateTimeOffset> NowAsync() => RecordAsync("durable.now", runtime.Clock.GetUtcNow);

    public Task<int> RandomAsync(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return RecordAsync("durable.random", () => Random.Shared.Next(minValue, maxValue));
    }

    public Task<Guid> NewGuidAsync() => RecordAsync("durable.new-guid", Guid.NewGuid);

    /// <summary>The most JSON a custom status may take.</summary>
    internal const int MaxCustomStatusBytes = 16 * 1024;

    public Task SetCustomStatusAsync<T>(T status)
    {
        var size = System.Text.Encoding.UTF8.GetByteCount(ValueJson.Serialize(status, runtime.Registry.JsonOptions));
        if (size > MaxCustomStatusBytes)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The custom status of workflow '{workflowId}' is {size:N0} bytes of JSON, over the limit of {MaxCustomStatusBytes:N0}."), nameof(status));
        return RecordAsync(WorkflowJournal.CustomStatusStepId, () => status);
    }

    public Task SetAttributesAsync(IReadOnlyDictionary<string, object?> attributes)
    {
        var changes = AttributeChanges.From(attributes, workflowId);
        return RecordAsync(AttributeChanges.StepId, () => changes);
    }

    public async Task<IReadOnlyList<T>> ParallelAsync<T>(IReadOnlyList<Func<IWorkflowContext, Task<T>>> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Count == 0)
            return [];
        // After the workflow was cancelled a top-level block still reserves its keys (a replay must take the same
        // keys as the run that recorded it, so that cleanup steps after it get theirs); its branches start no step.
        if (scope.Length > 0 || !cancelRequested.IsCancellationRequested)
            cancellationToken.ThrowIfCancellationRequested();
        runToken.ThrowIfCancellationRequested();

        using var block = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var span = Telemetry.StartParallel(workflowId, Trace, branches.Count);
        // Branches run in actors of their own: each takes the block's span (or the code's current activity) as its
        // current activity and the workflow's log scope, so its steps' spans are children of the block's.
        var parent = span ?? Activity.Current;
        var trace = Trace;
        var erased = branches.Select(branch => (Func<IWorkflowContext, Task<object?>>)(async c =>
        {
            using var traced = trace?.Enter(parent);
            return await branch(c).ConfigureAwait(false);
        })).ToList();
        var started = NewReply<IReadOnlyList<ParallelBranch>>();
        workflowActor.Tell(new BeginParallel(runId, history.NextBlock(scope, erased.Count), erased, this, started, Enumerable.Repeat(block.Token, erased.Count).ToArray()));
        var running = await started.Task.WaitAsync(runToken).ConfigureAwait(false);

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
        {
            var error = Describe(failed, running.Count);
            if (span is not null)
                Telemetry.Failed(span, error.Message, error);
            throw error;
        }
        return completions.Select(c => (T)c.Result!).ToList();
    }

    private static ParallelBranchFailedException Describe(ParallelBranch failed, int branches)
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
