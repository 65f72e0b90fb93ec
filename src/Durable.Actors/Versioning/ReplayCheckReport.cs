namespace Durable.Actors;

/// <summary>Options of <see cref="WorkflowReplayChecker.CheckAsync"/>.</summary>
public sealed record ReplayCheckOptions
{
    /// <summary>Also check workflows that ended for good (completed or cancelled); by default only unfinished ones (running or failed).</summary>
    public bool IncludeFinished { get; init; }

    /// <summary>How long one workflow's replay may take when its code awaits something other than the context (30 s by default).</summary>
    public TimeSpan WorkflowTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>How one workflow's record compares with the current code.</summary>
public enum ReplayVerdict
{
    /// <summary>The code asks for the recorded steps, waits and blocks in order, as far as the record goes.</summary>
    Compatible,

    /// <summary>The code asks for something else than the record holds at a key (see <see cref="WorkflowReplayResult.Detail"/>).</summary>
    Incompatible,

    /// <summary>The recorded workflow type is not in the registry.</summary>
    TypeNotRegistered,

    /// <summary>The recorded input no longer reads as the workflow's input type.</summary>
    InputUnreadable,

    /// <summary>The workflow's journal events could not be read (not written by this engine, or by a newer one).</summary>
    JournalUnreadable,
}

/// <summary>The check of one workflow.</summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <param name="WorkflowType">Its recorded type.</param>
/// <param name="Status">Its status in the journal.</param>
/// <param name="Verdict">How its record compares with the current code.</param>
/// <param name="Detail">One line: how far the replay went, or what differs.</param>
public sealed record WorkflowReplayResult(string WorkflowId, string WorkflowType, WorkflowRunStatus Status, ReplayVerdict Verdict, string Detail)
{
    /// <summary>The key where the record and the code first differ; null when they do not.</summary>
    public string? Key { get; init; }

    /// <summary>The divergence without the workflow's id, the same for every workflow that diverges the same way; null when compatible.</summary>
    public string? Divergence { get; init; }

    /// <summary>Differences that do not break the replay, e.g. a child workflow's recorded input that differs from what the code passes now.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Whether the verdict is <see cref="ReplayVerdict.Compatible"/>.</summary>
    public bool IsCompatible => Verdict == ReplayVerdict.Compatible;
}

/// <summary>Workflows that diverge from the code in the same way.</summary>
/// <param name="Divergence">What differs (<see cref="WorkflowReplayResult.Divergence"/>).</param>
/// <param name="WorkflowIds">The workflows, ordered by id.</param>
public sealed record ReplayDivergenceGroup(string Divergence, IReadOnlyList<string> WorkflowIds);

/// <summary>
/// Which path of a patch (<see cref="IWorkflowContext.PatchedAsync"/>) the unfinished workflows took, as far as their
/// record goes. The old branch may be deleted when <paramref name="OldPath"/> is empty.
/// </summary>
/// <param name="PatchId">The patch.</param>
/// <param name="OldPath">Unfinished workflows recorded on the old code at the call: they still need the old branch.</param>
/// <param name="NewPath">Unfinished workflows that took the new path (a marker is recorded), or reached the call where their record ends.</param>
public sealed record PatchUsage(string PatchId, IReadOnlyList<string> OldPath, IReadOnlyList<string> NewPath);

/// <summary>What <see cref="WorkflowReplayChecker.CheckAsync"/> found.</summary>
/// <param name="Database">The database checked.</param>
/// <param name="Workflows">One result per workflow checked, ordered by id.</param>
/// <param name="Patches">One entry per patch the code asked for in the unfinished workflows, ordered by id.</param>
public sealed record ReplayCheckReport(string Database, IReadOnlyList<WorkflowReplayResult> Workflows, IReadOnlyList<PatchUsage> Patches)
{
    /// <summary>Whether every workflow checked is compatible with the code.</summary>
    public bool AllCompatible => Workflows.All(w => w.IsCompatible);

    /// <summary>The workflows that are not compatible, grouped by their first divergence (the largest group first).</summary>
    public IReadOnlyList<ReplayDivergenceGroup> Divergences => Workflows
        .Where(w => !w.IsCompatible)
        .GroupBy(w => w.Divergence ?? w.Detail, StringComparer.Ordinal)
        .Select(g => new ReplayDivergenceGroup(g.Key, g.Select(w => w.WorkflowId).ToList()))
        .OrderByDescending(g => g.WorkflowIds.Count)
        .ThenBy(g => g.Divergence, StringComparer.Ordinal)
        .ToList();
}
