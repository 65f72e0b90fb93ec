namespace Durable.Actors;

/// <summary>How an error reads in records and replies: our own exceptions by their message, others with their type.</summary>
internal static class ErrorText
{
    public static string Of(Exception e) => e is DurableActorsException ? e.Message : $"{e.GetType().Name}: {e.Message}";
}

/// <summary>The base of the exceptions Durable.Actors throws for failures in the workflow domain.</summary>
public abstract class DurableActorsException : Exception
{
    private protected DurableActorsException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The workflow code asked for a different step than the journal recorded at the same key.</summary>
/// <remarks>The code changed in a way that moved its steps, or it branches on something that is not deterministic.</remarks>
public sealed class WorkflowNondeterminismException : DurableActorsException
{
    /// <summary>What is recorded and what is asked, as ids (<paramref name="recordedStepId"/>, <paramref name="requestedStepId"/>) and as a sentence names them (a step, a timer, a wait, a parallel block).</summary>
    internal WorkflowNondeterminismException(string workflowId, string key, string recordedStepId, string requestedStepId, string recorded, string requested)
        : base($"Workflow '{workflowId}' is not deterministic: step key '{key}' holds {recorded} in the journal " +
               $"but the code now asks for {requested}. Restore the code that recorded this workflow, or start a new workflow id.")
    {
        WorkflowId = workflowId;
        Key = key;
        RecordedStepId = recordedStepId;
        RequestedStepId = requestedStepId;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>The step key where the journal and the code disagree.</summary>
    public string Key { get; }

    /// <summary>The step id the journal holds at <see cref="Key"/>.</summary>
    public string RecordedStepId { get; }

    /// <summary>The step id the code asked for at <see cref="Key"/>.</summary>
    public string RequestedStepId { get; }
}

/// <summary>A step's result could not be serialized to JSON and read back, so it was recorded as FAILED.</summary>
public sealed class StepResultNotSerializableException : DurableActorsException
{
    internal StepResultNotSerializableException(string key, string stepId, Type resultType, Exception inner)
        : base($"Step '{stepId}' ({key}) returned a {resultType.FullName} that cannot be recorded as JSON: {inner.Message}", inner)
    {
        Key = key;
        StepId = stepId;
        ResultType = resultType;
    }

    /// <summary>The step key.</summary>
    public string Key { get; }

    /// <summary>The step id.</summary>
    public string StepId { get; }

    /// <summary>The step's declared result type.</summary>
    public Type ResultType { get; }
}

/// <summary>A branch of a parallel block failed; the other branches were cancelled and have ended.</summary>
public sealed class ParallelBranchFailedException : DurableActorsException
{
    internal ParallelBranchFailedException(string branchKey, int branch, int branches, string? stepKey, string? stepId, Exception inner)
        : base($"Branch {branchKey} ({branch} of {branches}) of a parallel block failed " +
               (stepId is null ? "outside any step" : $"at step '{stepId}' ({stepKey})") +
               $": {ErrorText.Of(inner)}", inner)
    {
        BranchKey = branchKey;
        StepKey = stepKey;
        StepId = stepId;
    }

    /// <summary>The sequence key reserved for the failed branch, e.g. <c>wf-1:3</c>; its steps are <c>wf-1:3.1</c>, ….</summary>
    public string BranchKey { get; }

    /// <summary>The key of the step that failed, or null when the branch failed outside any step.</summary>
    public string? StepKey { get; }

    /// <summary>The id of the step that failed, or null when the branch failed outside any step.</summary>
    public string? StepId { get; }
}

/// <summary>The SQLite database cannot be used: not a SQLite file, a folder that cannot be written, or a file that cannot be opened.</summary>
public sealed class DatabaseUnavailableException : DurableActorsException
{
    internal DatabaseUnavailableException(string path, string message, Exception? inner = null) : base(message, inner) => Path = path;

    /// <summary>The database path involved.</summary>
    public string Path { get; }
}

/// <summary>
/// An attempt of a step took longer than its <see cref="StepOptions.Timeout"/>, or sent no heartbeat for its
/// <see cref="StepOptions.HeartbeatTimeout"/>: its token was cancelled and the attempt was recorded as FAILED. Retried by the step's <see cref="RetryPolicy"/> like any other error; thrown to the workflow's
/// code once the attempts are exhausted.
/// </summary>
public sealed class StepTimedOutException : DurableActorsException
{
    internal StepTimedOutException(string key, string stepId, int attempt, TimeSpan timeout, Exception? inner, bool heartbeat = false)
        : base(heartbeat
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Attempt {attempt} of step '{stepId}' ({key}) sent no heartbeat for {timeout.TotalSeconds:0.###} s (its StepOptions.HeartbeatTimeout).")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Attempt {attempt} of step '{stepId}' ({key}) timed out after {timeout.TotalSeconds:0.###} s (its StepOptions.Timeout)."), inner)
    {
        Key = key;
        StepId = stepId;
        Attempt = attempt;
        Timeout = timeout;
        HeartbeatTimedOut = heartbeat;
    }

    /// <summary>True when the attempt's heartbeats stopped for <see cref="Timeout"/> (its <see cref="StepOptions.HeartbeatTimeout"/>), false when it ran longer than its <see cref="StepOptions.Timeout"/>.</summary>
    public bool HeartbeatTimedOut { get; }

    /// <summary>The step key.</summary>
    public string Key { get; }

    /// <summary>The step id.</summary>
    public string StepId { get; }

    /// <summary>The attempt that timed out, counting from 1 over the step's life.</summary>
    public int Attempt { get; }

    /// <summary>The time an attempt may take, or go without a heartbeat.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>
/// A step's result, as the journal stores it (its UTF-8 JSON), is larger than <c>durable-actors.max-step-result-size</c>,
/// so it was recorded as FAILED and never reached the journal. It is never retried.
/// </summary>
public sealed class StepResultTooLargeException : DurableActorsException
{
    internal StepResultTooLargeException(string key, string stepId, long size, long limit)
        : base(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Step '{stepId}' ({key}) returned a result of {size:N0} bytes of JSON, over the limit of {limit:N0} bytes (durable-actors.max-step-result-size): store large data elsewhere and return a reference to it."))
    {
        Key = key;
        StepId = stepId;
        Size = size;
        Limit = limit;
    }

    /// <summary>The step key.</summary>
    public string Key { get; }

    /// <summary>The step id.</summary>
    public string StepId { get; }

    /// <summary>The bytes the result would take in the journal: its UTF-8 JSON, stored as it is.</summary>
    public long Size { get; }

    /// <summary>The configured limit in bytes.</summary>
    public long Limit { get; }

    /// <summary>Throws when <paramref name="resultJson"/> would take more than <paramref name="limit"/> bytes in its stored event.</summary>
    internal static void ThrowIfTooLarge(string key, string stepId, string resultJson, long limit)
    {
        // A UTF-16 char takes at most 3 bytes of UTF-8: a short result is not measured.
        if ((long)resultJson.Length * 3 <= limit)
            return;
        var size = System.Text.Encoding.UTF8.GetByteCount(resultJson);
        if (size > limit)
            throw new StepResultTooLargeException(key, stepId, size, limit);
    }
}

/// <summary>A child workflow failed, was cancelled, or could not be started; its parent gets this from <c>RunChildAsync</c>.</summary>
public sealed class ChildWorkflowFailedException : DurableActorsException
{
    internal ChildWorkflowFailedException(string childId, string childType, string outcome, string error)
        : base($"Child workflow '{childId}' ({childType}) {outcome}: {error}")
    {
        ChildId = childId;
        Outcome = outcome;
        ChildError = error;
    }

    /// <summary>The child's workflow id.</summary>
    public string ChildId { get; }

    /// <summary>How it ended: <c>failed</c>, <c>was cancelled</c> or <c>was not started</c>.</summary>
    public string Outcome { get; }

    /// <summary>The child's recorded error, or why it was not started.</summary>
    public string ChildError { get; }
}

/// <summary>A signal's payload does not read as the type its wait asked for; the signal was consumed by that wait.</summary>
public sealed class SignalPayloadException : DurableActorsException
{
    internal SignalPayloadException(string workflowId, string key, string signalName, Type payloadType, Exception inner)
        : base($"Workflow '{workflowId}' got signal '{signalName}' at {key} with a payload that does not read as {TypeNames.Of(payloadType)}: {inner.Message}", inner)
    {
        SignalName = signalName;
        PayloadType = payloadType;
    }

    /// <summary>The signal's name.</summary>
    public string SignalName { get; }

    /// <summary>The type the wait asked for.</summary>
    public Type PayloadType { get; }
}

/// <summary>A completed step's recorded result does not read as the type the code now asks for.</summary>
/// <remarks>The step's result type changed since the step was recorded; its record is left as it is.</remarks>
public sealed class StepResultUnreadableException : DurableActorsException
{
    internal StepResultUnreadableException(string workflowId, string key, string stepId, string? recordedType, Type requestedType, Exception inner)
        : base($"Workflow '{workflowId}' cannot replay step '{stepId}' ({key}): its recorded result " +
               $"({(recordedType is null ? "type not recorded" : $"recorded as {recordedType}")}) does not read as {TypeNames.Of(requestedType)}: {inner.Message} " +
               "The step's result type changed since it was recorded: keep the new type able to read the recorded JSON " +
               "(new members optional, same names), or run the old code to finish this workflow, or start a new workflow id.", inner)
    {
        WorkflowId = workflowId;
        Key = key;
        StepId = stepId;
        RecordedType = recordedType;
        RequestedType = requestedType;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>The step key.</summary>
    public string Key { get; }

    /// <summary>The step id.</summary>
    public string StepId { get; }

    /// <summary>The result type the step declared when it was recorded; null for records older than this information.</summary>
    public string? RecordedType { get; }

    /// <summary>The result type the code asks for now.</summary>
    public Type RequestedType { get; }
}

/// <summary>A workflow's last run failed (<see cref="WorkflowHandle{TResult}.GetResultAsync"/>); resume it to try again.</summary>
public sealed class WorkflowFailedException : DurableActorsException
{
    internal WorkflowFailedException(string workflowId, string error)
        : base($"Workflow '{workflowId}' failed: {error}")
    {
        WorkflowId = workflowId;
        Error = error;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>The recorded error.</summary>
    public string Error { get; }
}

/// <summary>A workflow was cancelled (<see cref="CancelWorkflow"/>).</summary>
public sealed class WorkflowCancelledException : DurableActorsException
{
    internal WorkflowCancelledException(string workflowId, string? reason)
        : base($"Workflow '{workflowId}' was cancelled" + (reason is null ? "." : $": {reason}"))
    {
        WorkflowId = workflowId;
        Reason = reason;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>The reason given with the cancellation.</summary>
    public string? Reason { get; }
}

/// <summary>No workflow has this id.</summary>
public sealed class WorkflowNotFoundException : DurableActorsException
{
    internal WorkflowNotFoundException(string workflowId) : base($"No workflow has the id '{workflowId}'.") => WorkflowId = workflowId;

    /// <summary>The id asked for.</summary>
    public string WorkflowId { get; }
}

/// <summary>A request was refused and changed nothing: an unknown type, input of the wrong shape, an invalid id or signal, an ended workflow.</summary>
public sealed class WorkflowRejectedException : DurableActorsException
{
    internal WorkflowRejectedException(string workflowId, string reason)
        : base(Capitalized(new WorkflowRejected(workflowId, reason).Describe($"workflow '{workflowId}'")))
    {
        WorkflowId = workflowId;
        Reason = reason;
    }

    /// <summary>The workflow.</summary>
    public string WorkflowId { get; }

    /// <summary>What was wrong.</summary>
    public string Reason { get; }

    private static string Capitalized(string message) => message.Length == 0 ? message : char.ToUpperInvariant(message[0]) + message[1..];
}
