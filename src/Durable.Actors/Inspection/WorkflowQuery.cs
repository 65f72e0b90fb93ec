using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Durable.Actors;

/// <summary>
/// Which workflows <see cref="DurableWorkflows.ListAsync(Akka.Actor.ActorSystem, WorkflowQuery, CancellationToken)"/>
/// returns: newest first (by start, then by id), filtered, one page at a time.
/// </summary>
/// <remarks>
/// To read the next page, pass the page's <see cref="WorkflowPage.NextCursor"/> as <see cref="After"/> with the same
/// filters. Pages follow the order of start times, so a workflow started while you page appears on no later page, and
/// none is listed twice.
/// </remarks>
public sealed record WorkflowQuery
{
    /// <summary>The page size when none is given: 50.</summary>
    public const int DefaultLimit = 50;

    /// <summary>The largest page: 1,000.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Only workflows with this status; null for any.</summary>
    public WorkflowRunStatus? Status { get; init; }

    /// <summary>Only workflows of this registered type (exact match); null for any.</summary>
    public string? Type { get; init; }

    /// <summary>Only workflows whose id starts with this text (ordinal, case-sensitive); null or empty for any.</summary>
    public string? IdPrefix { get; init; }

    /// <summary>Only workflows whose last run ended before this time (completed, failed or cancelled then); null for any.</summary>
    public DateTimeOffset? EndedBefore { get; init; }

    /// <summary>Only workflows whose custom attributes meet every one of these conditions; empty for any.</summary>
    public IReadOnlyList<AttributeFilter> Attributes { get; init; } = [];

    /// <summary>At most this many workflows, from 1 to <see cref="MaxLimit"/>; <see cref="DefaultLimit"/> by default.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>The <see cref="WorkflowPage.NextCursor"/> of the previous page; null for the first page.</summary>
    public string? After { get; init; }

    /// <summary>Throws what a list with this query would, before anything is read.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Limit"/> is not from 1 to <see cref="MaxLimit"/>.</exception>
    /// <exception cref="ArgumentException"><see cref="After"/> is not a cursor of a workflow list.</exception>
    public void Validate() => Inspection.JournalReader.Validate(this);
}

/// <summary>One page of workflows, newest first.</summary>
/// <param name="Items">The workflows of the page.</param>
/// <param name="NextCursor">Pass it as <see cref="WorkflowQuery.After"/> to read the next page; null when this page is the last.</param>
public sealed record WorkflowPage(IReadOnlyList<WorkflowSummary> Items, string? NextCursor);

/// <summary>A workflow as the workflow index holds it: what a listing shows, without its steps.</summary>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="WorkflowType">Its registered type.</param>
/// <param name="Status">Where its last run stands.</param>
/// <param name="StartedAt">When it was first started.</param>
/// <param name="UpdatedAt">When its last event (a step, a run's start or end) was recorded.</param>
/// <param name="EndedAt">When its last run ended, if it ended.</param>
/// <param name="Error">The error of its last failed run (cut beyond 2,000 characters; <c>GetStatusAsync</c> has it whole); null once a run completed.</param>
/// <param name="StepCount">How many steps it started (each counted once, whatever its attempts).</param>
/// <param name="CompletedSteps">How many steps have their result recorded.</param>
/// <param name="FailedAttempts">How many attempts failed, retries and attempts left by a crash included.</param>
public sealed record WorkflowSummary(
    string WorkflowId,
    string WorkflowType,
    WorkflowRunStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? EndedAt,
    string? Error,
    int StepCount,
    int CompletedSteps,
    int FailedAttempts);

/// <summary>The cursor of a page: the start time and id of its last workflow, opaque to callers.</summary>
internal static class WorkflowCursor
{
    private const string Version = "c1.";

    public static string Encode(DateTimeOffset startedAt, string workflowId) =>
        Version + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            startedAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + ":" + workflowId));

    public static bool TryDecode(string cursor, out (long StartedTicks, string WorkflowId) position)
    {
        position = default;
        if (!cursor.StartsWith(Version, StringComparison.Ordinal))
            return false;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor.AsSpan(Version.Length)));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks || colon == text.Length - 1)
            return false;
        position = (ticks, text[(colon + 1)..]);
        return true;
    }
}
