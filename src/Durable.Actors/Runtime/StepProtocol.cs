namespace Durable.Actors.Runtime;

// Messages between a running workflow (outside the actor) and its workflow actor, the single writer of its journal.
// They never leave the process, so they carry the completion sources the run awaits.

/// <summary>
/// A step whose body returned and whose COMPLETED record is not written yet: it rides with the next record of its
/// context (the next step's IN_PROGRESS, a parallel block's reservation, the run's end) in one atomic write.
/// </summary>
internal sealed record PendingCompletion(string Key, string StepId, int Attempt, string ResultJson);

/// <summary>
/// Asks for the next step key in <paramref name="Scope"/> and what to do with the step there, writing
/// <paramref name="Completed"/> in the same atomic write as what the decision records.
/// </summary>
internal sealed record BeginStep(int RunId, string Scope, string StepId, IReadOnlyList<PendingCompletion> Completed, TaskCompletionSource<StepDecision> Reply);

/// <summary>Sent to self to decide again on a step that waited for a young IN_PROGRESS record to turn stale.</summary>
internal sealed record DecideStepAgain(int RunId, string Key, string StepId, TaskCompletionSource<StepDecision> Reply);

/// <summary>Writes completions that have no next record to ride with (a branch that ended).</summary>
internal sealed record CompleteSteps(int RunId, IReadOnlyList<PendingCompletion> Completed, TaskCompletionSource Reply);

internal sealed record FailStep(int RunId, string Key, string Error, TaskCompletionSource Reply);

/// <summary>The workflow method of run <paramref name="RunId"/> returned (<paramref name="ResultJson"/>) or threw (<paramref name="Error"/>).</summary>
internal sealed record RunFinished(int RunId, string? ResultJson, string? Error, IReadOnlyList<PendingCompletion> Completed);

internal abstract record StepDecision(string Key);

/// <summary>The step completed before: return its recorded result.</summary>
internal sealed record ReplayStep(string Key, string ResultJson) : StepDecision(Key);

/// <summary>The IN_PROGRESS record of this attempt is durable: run the body.</summary>
internal sealed record ExecuteStep(string Key, int Attempt) : StepDecision(Key);

/// <summary>Asks to reserve one sequence number per branch in <paramref name="Scope"/> and to start the branches in child actors.</summary>
internal sealed record BeginParallel(
    int RunId,
    string Scope,
    IReadOnlyList<PendingCompletion> Completed,
    IReadOnlyList<Func<IWorkflowContext, Task<object?>>> Branches,
    WorkflowContext Parent,
    CancellationToken BlockToken,
    TaskCompletionSource<IReadOnlyList<ParallelBranch>> Reply);

/// <summary>A running branch: <paramref name="Number"/> counts from 1 in declaration order; <paramref name="Key"/> is its reserved key.</summary>
internal sealed record ParallelBranch(string Key, int Number, WorkflowContext Context, TaskCompletionSource<object?> Completion);
