namespace Durable.Actors.Journal;

/// <summary>
/// A parent waits for its child as for a signal named <c>$child:&lt;childId&gt;</c>, which the child sends when it ends:
/// durable, buffered and consumed once like any signal. Names starting with <c>$</c> are the engine's own.
/// </summary>
internal static class ChildSignals
{
    public const string Prefix = "$child:";

    /// <summary>The id of the step that starts a child workflow: this and the child's id.</summary>
    public const string StartStepPrefix = "start-child:";

    public static string StartStepId(string childId) => StartStepPrefix + childId;

    /// <summary>Why a child is cancelled with its parent.</summary>
    public static string ParentCancelled(string parentId) => $"its parent '{parentId}' was cancelled";

    /// <summary>The child a start step started; null for another step.</summary>
    public static string? StartedBy(string stepId) =>
        stepId.StartsWith(StartStepPrefix, StringComparison.Ordinal) ? stepId[StartStepPrefix.Length..] : null;

    public static string For(string childId) => Prefix + childId;

    public static string? ChildOf(string? signalName) =>
        signalName is not null && signalName.StartsWith(Prefix, StringComparison.Ordinal) ? signalName[Prefix.Length..] : null;

    /// <summary>What a workflow waiting on <paramref name="signalName"/> (null: a timer) waits for, for status and logs.</summary>
    public static string Describe(string? signalName, DateTimeOffset? dueAt) => signalName switch
    {
        null => $"sleeping until {dueAt:O}",
        _ when ChildOf(signalName) is { } child => $"waiting for child workflow '{child}'",
        _ => $"waiting for signal '{signalName}'" + (dueAt is { } due ? $" until {due:O}" : ""),
    };
}
