using System.Globalization;
using Cronos;

namespace Durable.Actors;

/// <summary>What a schedule does when a tick comes while a workflow of an earlier tick still runs (or is paused).</summary>
public enum ScheduleOverlap
{
    /// <summary>The tick starts nothing (the default, as Temporal's).</summary>
    Skip,

    /// <summary>The tick starts once the running one ends; at most one tick waits so, later ones are skipped.</summary>
    BufferOne,

    /// <summary>The tick starts its workflow beside the running ones.</summary>
    AllowAll,

    /// <summary>The running ones are cancelled (as <see cref="CancelWorkflow"/>, their cleanup steps run), then the tick starts.</summary>
    CancelOther,
}

/// <summary>
/// A schedule (<see cref="WorkflowClient.Schedules"/>): at each tick of a cron expression or a fixed interval it starts
/// a workflow of <see cref="WorkflowType"/> with <see cref="InputJson"/>, whose id is
/// <c>&lt;ScheduleId&gt;@&lt;the tick's UTC instant&gt;</c> (<c>nightly@2026-12-07T02:00:00Z</c>), so that a tick
/// fired twice (a crash at the tick, two hosts) starts one workflow.
/// </summary>
/// <param name="ScheduleId">The schedule's id: 1 to 200 characters, no <c>@</c>, no control characters or outer white space.</param>
/// <param name="WorkflowType">The registered workflow type each tick starts.</param>
public sealed record ScheduleSpec(string ScheduleId, string WorkflowType)
{
    /// <summary>
    /// A cron expression (5 fields, or 6 with seconds first: <c>0 2 * * *</c>, <c>*/10 * * * * *</c>), read by Cronos in
    /// <see cref="TimeZone"/>: a time skipped by a daylight-saving change fires at the first valid moment after it, a
    /// time repeated fires once. Give this or <see cref="Every"/>.
    /// </summary>
    public string? Cron { get; init; }

    /// <summary>A fixed interval (whole seconds, at least one), its ticks at whole multiples of it since the Unix epoch. Give this or <see cref="Cron"/>.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>The IANA (or Windows) id of the time zone the cron expression is read in; UTC by default.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>The input of each workflow, as JSON; <c>null</c> by default.</summary>
    public string InputJson { get; init; } = "null";

    /// <summary>What a tick does while a workflow of an earlier tick runs; <see cref="ScheduleOverlap.Skip"/> by default.</summary>
    public ScheduleOverlap Overlap { get; init; } = ScheduleOverlap.Skip;

    /// <summary>
    /// How far back ticks missed while no host ran are fired when one starts (in order, each through
    /// <see cref="Overlap"/>); older ones are skipped. One minute by default, at least zero.
    /// </summary>
    public TimeSpan CatchUpWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A declared queue each tick's workflow is enqueued on instead of started at once (its limits apply; the overlap
    /// policy counts an enqueued workflow as running); null by default.
    /// </summary>
    public string? Queue { get; init; }
}

/// <summary>A schedule as stored, with when it fires next.</summary>
/// <param name="Spec">What it starts and when.</param>
/// <param name="Paused">Whether it is paused (its ticks start nothing until it is resumed).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastTickAt">Its last tick fired (through its overlap policy); null before the first.</param>
/// <param name="NextTickAt">Its next tick; null while it is paused.</param>
public sealed record ScheduleInfo(ScheduleSpec Spec, bool Paused, DateTimeOffset CreatedAt, DateTimeOffset? LastTickAt, DateTimeOffset? NextTickAt);

/// <summary>A spec checked and ready to compute ticks: its cron expression parsed, its time zone found.</summary>
internal sealed class ScheduleTimes
{
    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone;
    private readonly long _everyTicks;

    private ScheduleTimes(CronExpression? cron, TimeZoneInfo zone, long everyTicks)
    {
        _cron = cron;
        _zone = zone;
        _everyTicks = everyTicks;
    }

    /// <summary>The longest schedule id: a tick's id adds 21 characters and stays a valid workflow id.</summary>
    public const int MaxIdLength = 200;

    /// <summary>The spec's times; throws <see cref="ArgumentException"/> naming what is wrong with it.</summary>
    public static ScheduleTimes Of(ScheduleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var id = spec.ScheduleId;
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength || id.Contains('@', StringComparison.Ordinal) || id.Any(char.IsControl) || id.Trim() != id)
            throw new ArgumentException($"'{id}' is not a schedule id: 1 to {MaxIdLength} characters, no '@', no control characters or white space around it.");
        if (string.IsNullOrWhiteSpace(spec.WorkflowType))
            throw new ArgumentException($"Schedule '{id}' names no workflow type.");
        if ((spec.Cron is null) == (spec.Every is null))
            throw new ArgumentException($"Schedule '{id}' needs a cron expression or an interval, not {(spec.Cron is null ? "neither" : "both")}.");
        if (spec.CatchUpWindow < TimeSpan.Zero)
            throw new ArgumentException($"Schedule '{id}' has a negative catch-up window ({spec.CatchUpWindow}).");
        if (!Enum.IsDefined(spec.Overlap))
            throw new ArgumentException($"Schedule '{id}' has no overlap policy {(int)spec.Overlap}.");
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(spec.TimeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new ArgumentException($"Schedule '{id}': '{spec.TimeZone}' is not a time zone (an IANA id such as Europe/Paris, or UTC).", e);
        }
        if (spec.Every is { } every)
        {
            if (every < TimeSpan.FromSeconds(1) || every.Ticks % TimeSpan.TicksPerSecond != 0)
                throw new ArgumentException($"Schedule '{id}': an interval is whole seconds, at least one, not {every}.");
            return new ScheduleTimes(null, zone, every.Ticks);
        }
        var fields = spec.Cron!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return new ScheduleTimes(CronExpression.Parse(spec.Cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard), zone, 0);
        }
        catch (CronFormatException e)
        {
            throw new ArgumentException($"Schedule '{id}': '{spec.Cron}' is not a cron expression ({e.Message.TrimEnd('.')}).", e);
        }
    }

    /// <summary>The first tick strictly after <paramref name="after"/>; null when there is none (a cron expression that never fires again).</summary>
    public DateTimeOffset? After(DateTimeOffset after)
    {
        if (_cron is null)
        {
            var next = (after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / _everyTicks * _everyTicks + _everyTicks;
            return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + next, TimeSpan.Zero);
        }
        return _cron.GetNextOccurrence(after.ToUniversalTime(), _zone) is { } occurrence ? occurrence.ToUniversalTime() : null;
    }

    /// <summary>
    /// The next tick to fire after <paramref name="last"/> (the last one fired, or the schedule's creation), seen at
    /// <paramref name="now"/>: ticks before <paramref name="now"/> less <paramref name="catchUpWindow"/> are skipped.
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset last, DateTimeOffset now, TimeSpan catchUpWindow)
    {
        var beforeOldest = (now - catchUpWindow).AddTicks(-1);
        return After(last > beforeOldest ? last : beforeOldest);
    }

    /// <summary>The id of the workflow a tick starts: <c>&lt;scheduleId&gt;@&lt;UTC instant&gt;</c>.</summary>
    public static string WorkflowId(string scheduleId, DateTimeOffset tick) =>
        scheduleId + "@" + tick.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);
}
