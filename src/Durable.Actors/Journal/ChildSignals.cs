namespace Durable.Actors.Journal;

/// <summary>
/// A parent waits for its child as for a signal named <c>$child:&lt;childId&gt;</c>, which the child sends when it ends:
/// durable, buffered and consumed once like any signal. Names starting with <c>$</c> are the engine's own.
/// </summary>
internal static class ChildSignals
{
    public const string Prefix = "$child:";

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
