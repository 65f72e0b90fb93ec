namespace Durable.Actors;

/// <summary>What a running workflow uses to run durable steps.</summary>
public interface IWorkflowContext
{
    /// <summary>The id of the running workflow.</summary>
    string WorkflowId { get; }

    /// <summary>
    /// Cancelled when the workflow is cancelled (<see cref="CancelWorkflow"/>) or its actor stops; pass it to the I/O a
    /// workflow does outside steps. Step bodies get it too (a step that starts after a cancellation gets a token that
    /// fires only when the actor stops, so that cleanup steps can run).
    /// </summary>
    CancellationToken CancellationToken { get; }

    /// <summary>Waits durably for <paramref name="duration"/>: the wake-up time is journaled, a replay after it returns at once.</summary>
    /// <param name="duration">How long; any length (months), measured from the first run that reached this call.</param>
    /// <remarks>
    /// A workflow that sleeps longer than <c>durable-actors.passivate-after</c> leaves memory: its caller gets
    /// <see cref="WorkflowWaiting"/> and a host running the engine wakes it when due (a host that was down wakes it
    /// when it starts). Cancellation wakes it at once with <see cref="OperationCanceledException"/>.
    /// </remarks>
    /// <param name="cancellationToken">
    /// Cancels this wait alone: the timer is recorded as cancelled (a replay throws there too) and the call throws
    /// <see cref="OperationCanceledException"/>. Cancel it only from what the workflow's code decided (a race, a signal),
    /// never from a clock. By default the wait ends with the workflow's cancellation, or in a branch with its branch.
    /// </param>
    Task SleepAsync(TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>Waits durably until <paramref name="until"/>; returns at once when it has passed. See <see cref="SleepAsync"/>.</summary>
    Task SleepUntilAsync(DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits durably for the next signal named <paramref name="signalName"/> (<see cref="SignalWorkflow"/>), or for
    /// <paramref name="timeout"/>. Signals are buffered: one sent before this wait, or while the workflow was put away,
    /// is consumed here; each signal is consumed once, in the order they were delivered.
    /// </summary>
    /// <typeparam name="T">The payload's type, read with the registry's JSON options.</typeparam>
    /// <param name="signalName">The signal's name.</param>
    /// <param name="timeout">How long to wait (from the first run that reached this call); null waits until a signal comes.</param>
    /// <param name="cancellationToken">
    /// Cancels this wait alone, as for <see cref="SleepAsync"/>: a cancelled wait consumes no signal, so the next wait for
    /// the name gets it.
    /// </param>
    /// <returns>The payload, or <see cref="SignalResult{T}.TimedOut"/> when the timeout came first: an outcome, not an exception.</returns>
    /// <remarks>Throws <see cref="SignalPayloadException"/> when the payload does not read as <typeparamref name="T"/>.</remarks>
    Task<SignalResult<T>> WaitForSignalAsync<T>(string signalName, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts the child workflow <paramref name="childId"/> of type <paramref name="workflowType"/> and waits durably for
    /// its result. The start is a step: a replay re-attaches to the same child and never starts two. A child that ends
    /// while this workflow is put away (or its host is down) wakes it. Cancelling this workflow cancels the child,
    /// unless <paramref name="cancelWithParent"/> is false: then the child goes on alone and this workflow stops waiting.
    /// </summary>
    /// <typeparam name="TInput">The child's input.</typeparam>
    /// <typeparam name="TResult">The child's result.</typeparam>
    /// <param name="workflowType">A type registered in this host's registry.</param>
    /// <param name="input">The child's input.</param>
    /// <param name="childId">The child's id; null derives one from this workflow's id and the call's place (<c>order-7/1</c>, <c>order-7/3.1</c>).</param>
    /// <param name="cancelWithParent">Whether cancelling this workflow cancels the child (the default) or abandons it.</param>
    /// <returns>The child's result. Throws <see cref="ChildWorkflowFailedException"/> naming the child when it failed, was cancelled or could not be started.</returns>
    Task<TResult> RunChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true);

    /// <summary>
    /// Starts a child workflow like <see cref="RunChildAsync{TInput, TResult}"/> and returns at once with a handle whose
    /// <see cref="ChildWorkflow{TResult}.GetResultAsync"/> waits for it, so that the workflow can do other work first.
    /// </summary>
    /// <typeparam name="TInput">The child's input.</typeparam>
    /// <typeparam name="TResult">The child's result.</typeparam>
    /// <param name="workflowType">A type registered in this host's registry.</param>
    /// <param name="input">The child's input.</param>
    /// <param name="childId">The child's id; null derives one from this workflow's id and the call's place.</param>
    /// <param name="cancelWithParent">
    /// Whether cancelling this workflow cancels the child (the default), whenever it is cancelled: during the child's
    /// start, while it waits for the child, or while it does other work; false abandons the child.
    /// </param>
    Task<ChildWorkflow<TResult>> StartChildAsync<TInput, TResult>(string workflowType, TInput input, string? childId = null, bool cancelWithParent = true);

    /// <summary>The current time, recorded on first run so that a replay sees the same value.</summary>
    Task<DateTimeOffset> NowAsync();

    /// <summary>
    /// Sets the workflow's custom status, a small JSON value for progress (<c>new { Done = 2, Of = 5 }</c>) that
    /// <see cref="WorkflowStatus.CustomStatusJson"/> (status, the typed handle, the CLI, the dashboard) shows; the last
    /// value set wins. Recorded like <see cref="NowAsync"/>: it takes the next key of its scope and is written with the
    /// workflow's next record, or on its own a moment later when nothing else is recorded.
    /// </summary>
    /// <typeparam name="T">The status's type; it must serialize with the registry's JSON options.</typeparam>
    /// <param name="status">The status, at most 16 KB of JSON.</param>
    /// <remarks>Throws <see cref="ArgumentException"/> when the status's JSON is over 16 KB.</remarks>
    Task SetCustomStatusAsync<T>(T status);

    /// <summary>
    /// Sets custom attributes of the workflow, which the workflow index keeps so that lists and purges can filter on them
    /// (<see cref="WorkflowQuery.Attributes"/>, <c>list --where customer=acme</c>) and
    /// <see cref="WorkflowStatus.Attributes"/> shows. A value is a string (at most 1,000 characters), a number (kept as a
    /// double), a bool or a time (<see cref="DateTimeOffset"/>, or a <see cref="DateTime"/>, UTC when its kind is
    /// unspecified); null removes the attribute. The last value set wins. Recorded like <see cref="NowAsync"/> (it takes
    /// the next key of its scope and replays), and indexed in the transaction that writes it.
    /// </summary>
    /// <param name="attributes">At most 32 names (1 to 64 letters, digits, <c>_</c>, <c>.</c> or <c>-</c>, starting with a letter or <c>_</c>) and their values.</param>
    /// <remarks>Throws <see cref="ArgumentException"/>, naming the attribute, when a name or a value is out of these bounds.</remarks>
    Task SetAttributesAsync(IReadOnlyDictionary<string, object?> attributes);

    /// <summary>A new GUID, recorded on first run so that a replay sees the same value.</summary>
    Task<Guid> NewGuidAsync();

    /// <summary>A random number from <paramref name="minValue"/> (inclusive) to <paramref name="maxValue"/> (exclusive), recorded on first run so that a replay sees the same value.</summary>
    Task<int> RandomAsync(int minValue, int maxValue);

    /// <summary>Runs <paramref name="body"/> as a durable step, or returns its recorded result if it already completed.</summary>
    /// <typeparam name="T">The step's result; it must round-trip through System.Text.Json.</typeparam>
    /// <param name="stepId">A name for the step, kept with its record; the same code must ask for the same id in the same place.</param>
    /// <param name="body">The side effect. It gets a token cancelled when the workflow stops.</param>
    /// <param name="retry">How a failing body is retried in this run; null for the configured default (<c>durable-actors.step-retry</c>).</param>
    /// <returns>The result, as read back from its JSON record (the same value a later replay returns).</returns>
    /// <remarks>
    /// The step's key is <c>workflowId:sequence</c>, the sequence counting steps in call order. Before the body runs an
    /// IN_PROGRESS record is made durable; after it, COMPLETED with the result or FAILED with the error. A failed attempt
    /// is retried by <paramref name="retry"/>; when the attempts are exhausted the last error is rethrown. A step that
    /// completed never runs again; a failed one runs again on the next resume.
    /// Throws <see cref="WorkflowNondeterminismException"/> when the journal holds another step id at this key, and
    /// <see cref="StepResultNotSerializableException"/> when the result does not round-trip through JSON.
    /// </remarks>
    Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, RetryPolicy? retry = null);

    /// <summary>
    /// Runs <paramref name="body"/> as a durable step with <paramref name="options"/>: its retry policy, and the time one
    /// attempt may take (<see cref="StepOptions.Timeout"/>). See <see cref="StepAsync{T}(string, Func{CancellationToken, Task{T}}, RetryPolicy?)"/>.
    /// </summary>
    Task<T> StepAsync<T>(string stepId, Func<CancellationToken, Task<T>> body, StepOptions options);

    /// <summary>
    /// Whether this workflow takes the new path of the code change named <paramref name="patchId"/>:
    /// <c>if (await ctx.PatchedAsync("charge-before-ship")) { new code } else { old code }</c>.
    /// </summary>
    /// <param name="patchId">The change's name, unique in the workflow type; never reuse one for another change.</param>
    /// <returns>
    /// Decided at the call's place in the sequence of this context: true when a patch marker of this id is recorded
    /// there (the run that recorded it took the new path); false when anything else is recorded there (a workflow
    /// started on the old code: it keeps the old path, and the call takes no sequence number); true when nothing is
    /// recorded there yet (a run going forward: the marker is recorded, and takes a sequence number).
    /// </returns>
    /// <remarks>
    /// A recorded marker that the code no longer asks for is stepped over, so a patch is removed by deleting the call
    /// and the old branch once no unfinished workflow needs the old path (<see cref="WorkflowReplayChecker"/> counts them).
    /// </remarks>
    Task<bool> PatchedAsync(string patchId);

    /// <summary>Runs <paramref name="branches"/> in parallel, each with its own branch context, and returns their results in order.</summary>
    /// <typeparam name="T">The branches' result.</typeparam>
    /// <param name="branches">The branches; each may run any number of steps, conditionals, loops and nested parallel blocks.</param>
    /// <remarks>
    /// Before any branch starts, the block reserves one sequence number per branch, in declaration order, and journals
    /// the reservation; the steps of the branch reserved as <c>n</c> get keys <c>workflowId:n.1</c>, <c>workflowId:n.2</c>, …
    /// so keys are the same on every run whatever the scheduling. Each branch runs in a child actor of the workflow
    /// actor. When a branch fails, the others are cancelled through their token and the block waits for them, then
    /// throws <see cref="ParallelBranchFailedException"/> naming the branch and the step; steps that completed stay
    /// recorded and replay on resume.
    /// </remarks>
    Task<IReadOnlyList<T>> ParallelAsync<T>(IReadOnlyList<Func<IWorkflowContext, Task<T>>> branches);

    /// <summary>
    /// Races <paramref name="branches"/>: each runs with its own branch context, the first to end wins, and the others
    /// are cancelled through their branch's token (their waits are recorded as cancelled, their steps stop). The winner
    /// is recorded, so a replay takes the same branch whatever else has ended since.
    /// <c>await ctx.WhenAnyAsync(c => c.SleepAsync(TimeSpan.FromDays(3)), c => c.StepAsync("charge", ...))</c>.
    /// </summary>
    /// <param name="branches">The branches; each may run steps, waits, children and blocks, as a parallel block's branch.</param>
    /// <returns>
    /// The index of the branch that ended first, once it ended; when it threw, this throws what it threw. The call does
    /// not wait for the losers to stop (a step body that ignores its token runs to its end, and is recorded).
    /// </returns>
    /// <remarks>
    /// Before any branch starts, the race reserves one sequence number per branch, in order, as a parallel block does,
    /// and then one for the winner (a recorded value, <c>durable.when-any</c>). A replay that finds the winner recorded
    /// starts the losers already cancelled. Use it instead of <see cref="Task.WhenAny(Task[])"/>, whose winner is not
    /// recorded. While every branch of a race of the top-level code awaits a durable wait, the workflow is put away as
    /// for a wait of its own (a timer against a signal costs no memory until one of them ends).
    /// </remarks>
    Task<int> WhenAnyAsync(params Func<IWorkflowContext, Task>[] branches);
}
