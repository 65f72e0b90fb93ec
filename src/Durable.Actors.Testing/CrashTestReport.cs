using System.Text;

namespace Durable.Actors.Testing;

/// <summary>What the crash test found: one <see cref="CrashFailure"/> per problem, none when every crash point passed.</summary>
public sealed class CrashTestReport
{
    internal CrashTestReport(string workflowId, string expectedOutcome, int journalWrites, int stepBodies, IReadOnlyList<CrashRun> runs)
    {
        WorkflowId = workflowId;
        ExpectedOutcome = expectedOutcome;
        JournalWrites = journalWrites;
        StepBodies = stepBodies;
        Runs = runs;
        Failures = [.. runs.SelectMany(r => r.Failures)];
    }

    /// <summary>The workflow tested.</summary>
    public string WorkflowId { get; }

    /// <summary>How the run without crashes ended: <c>COMPLETED {"result"}</c>, <c>FAILED error</c> or <c>CANCELLED reason</c>.</summary>
    public string ExpectedOutcome { get; }

    /// <summary>The journal writes of the run without crashes: one crash point after each.</summary>
    public int JournalWrites { get; }

    /// <summary>The step bodies that returned in the run without crashes: one crash point after each, before its record.</summary>
    public int StepBodies { get; }

    /// <summary>How many crashes were run.</summary>
    public int CrashPoints => Runs.Count;

    /// <summary>Every problem found, naming the crash point and the step.</summary>
    public IReadOnlyList<CrashFailure> Failures { get; }

    /// <summary>True when no crash point found a problem.</summary>
    public bool Passed => Failures.Count == 0;

    internal IReadOnlyList<CrashRun> Runs { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder()
            .Append("crash test of '").Append(WorkflowId).Append("': ").Append(CrashPoints).Append(" crash points (")
            .Append(JournalWrites).Append(" journal writes, ").Append(StepBodies).Append(" step bodies); expected outcome ")
            .Append(ExpectedOutcome).Append("; ");
        if (Passed)
            return text.Append("all passed").ToString();
        text.Append(Failures.Count).Append(Failures.Count == 1 ? " problem:" : " problems:");
        foreach (var failure in Failures)
            text.AppendLine().Append("- ").Append(failure);
        return text.ToString();
    }
}

/// <summary>One problem at one crash point.</summary>
/// <param name="CrashPoint">Where the host crashed: <c>after journal write 4 (step wf:2 'charge' started …)</c>.</param>
/// <param name="StepKey">The step concerned (<c>workflowId:sequence</c>), if any.</param>
/// <param name="StepId">Its step id, if any.</param>
/// <param name="Problem">What went wrong.</param>
public sealed record CrashFailure(string CrashPoint, string? StepKey, string? StepId, string Problem)
{
    /// <inheritdoc />
    public override string ToString() =>
        StepKey is null ? $"crash {CrashPoint}: {Problem}" : $"crash {CrashPoint}: step {StepKey} '{StepId}': {Problem}";
}

/// <summary>One crash and its recovery: the journal as the crash left it, and what was found.</summary>
internal sealed record CrashRun(
    string CrashPoint,
    int? AfterWrite,
    int? AfterBody,
    string? CrashStepKey,
    IReadOnlyList<WorkflowStatus> AtCrash,
    IReadOnlyList<CrashFailure> Failures);
