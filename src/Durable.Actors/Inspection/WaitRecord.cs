using Durable.Actors.Journal;

namespace Durable.Actors;

/// <summary>What a durable wait waits for (<see cref="WaitRecord.Kind"/>).</summary>
public enum WaitKind
{
    /// <summary>A durable timer (<see cref="IWorkflowContext.SleepAsync"/>, <see cref="IWorkflowContext.SleepUntilAsync"/>).</summary>
    Timer,

    /// <summary>A signal (<see cref="IWorkflowContext.WaitForSignalAsync{T}"/>).</summary>
    Signal,

    /// <summary>A child workflow's end (<see cref="IWorkflowContext.StartChildAsync{TInput, TResult}"/>, awaited).</summary>
    Child,
}

/// <summary>Where a durable wait stands (<see cref="WaitRecord.Status"/>).</summary>
public enum WaitStatus
{
    /// <summary>It waits.</summary>
    Waiting,

    /// <summary>A timer that fired.</summary>
    Fired,

    /// <summary>A signal wait that received its signal.</summary>
    Received,

    /// <summary>A child wait whose child workflow ended.</summary>
    Ended,

    /// <summary>A wait that reached its timeout first.</summary>
    TimedOut,

    /// <summary>A wait ended because its cancellation token (or the workflow's) was cancelled.</summary>
    Cancelled,
}

/// <summary>One durable wait of a workflow as recorded (<see cref="WorkflowDetail.Waits"/>).</summary>
/// <param name="Key">Its key, <c>workflowId:sequence</c>, among the keys of the workflow's steps.</param>
/// <param name="Kind">A timer, a signal wait or a child wait.</param>
/// <param name="Name">The signal's name, or the child workflow's id; null for a timer.</param>
/// <param name="Status">Whether it waits, and how it ended.</param>
/// <param name="StartedAt">When it began.</param>
/// <param name="DueAt">When the timer fires or the wait times out; null when it has no timeout.</param>
/// <param name="EndedAt">When it ended; null while it waits.</param>
/// <param name="PayloadJson">What it received, as JSON: the signal's payload, or the child's outcome; null otherwise.</param>
public sealed record WaitRecord(
    string Key,
    WaitKind Kind,
    string? Name,
    WaitStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? DueAt,
    DateTimeOffset? EndedAt,
    string? PayloadJson)
{
    /// <summary>A wait as the journal keeps it: a timer has no signal name; a child wait's signal names the child.</summary>
    internal static WaitRecord Of(
        string key, string? signalName, DateTimeOffset startedAt, DateTimeOffset? dueAt, DateTimeOffset? endedAt, bool timedOut, string? payloadJson, bool cancelled)
    {
        var child = ChildSignals.ChildOf(signalName);
        var kind = signalName is null ? WaitKind.Timer : child is null ? WaitKind.Signal : WaitKind.Child;
        var status = (endedAt, cancelled, timedOut, kind) switch
        {
            (null, _, _, _) => WaitStatus.Waiting,
            (_, true, _, _) => WaitStatus.Cancelled,
            (_, _, _, WaitKind.Timer) => WaitStatus.Fired,
            (_, _, true, _) => WaitStatus.TimedOut,
            (_, _, _, WaitKind.Child) => WaitStatus.Ended,
            _ => WaitStatus.Received,
        };
        return new WaitRecord(key, kind, child ?? signalName, status, startedAt, dueAt, endedAt, status is WaitStatus.Received or WaitStatus.Ended ? payloadJson : null);
    }
}
