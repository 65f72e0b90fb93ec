namespace Durable.Actors.Journal;

/// <summary>
/// A patch marker is a completed step record with a reserved step id, <c>durable.patch:&lt;patch id&gt;</c>: the run
/// that first reached <see cref="IWorkflowContext.PatchedAsync"/> took the new path there. No new event type.
/// </summary>
internal static class PatchMarkers
{
    private const string Prefix = "durable.patch:";

    public static string StepId(string patchId) => Prefix + patchId;

    public static bool IsMarker(string stepId) => stepId.StartsWith(Prefix, StringComparison.Ordinal);

    public static string PatchIdOf(string stepId) => stepId[Prefix.Length..];
}
