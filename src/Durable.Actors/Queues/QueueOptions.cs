using System.Globalization;
using System.Text.RegularExpressions;

namespace Durable.Actors;

/// <summary>
/// A queue of workflows (<see cref="WorkflowClient.EnqueueAsync{TInput, TResult}"/>): how many of its workflows run at
/// once, per key and in all, and how many may start per period. Declare it in code (<see cref="WorkflowRegistry.AddQueue"/>)
/// or in HOCON (<c>durable-actors.queues.&lt;name&gt; { concurrency = 50, key-concurrency = 1 }</c>, which wins over code).
/// </summary>
/// <remarks>
/// A workflow holds its slot from its admission to its end (completed, failed or cancelled), while it sleeps or waits
/// too: a key concurrency of 1 is a mutual exclusion per key; <see cref="ReleaseSlotWhileSleeping"/> lets a long sleep
/// give it back. Null limits are no limit.
/// </remarks>
public sealed partial record QueueOptions
{
    /// <summary>A queue named <paramref name="name"/>, with no limit yet.</summary>
    /// <exception cref="ArgumentException">The name is not 1–64 of letters, digits, <c>_ . -</c>, starting with a letter.</exception>
    public QueueOptions(string name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
            throw new ArgumentException($"A queue name is 1 to 64 of letters, digits, '_', '.', '-' and starts with a letter, not '{name}'.", nameof(name));
        Name = name;
    }

    /// <summary>The queue's name.</summary>
    public string Name { get; }

    /// <summary>How many of its workflows run at once; null for no limit.</summary>
    public int? Concurrency { get; init; }

    /// <summary>How many of its workflows with the same key (<see cref="EnqueueOptions.Key"/>) run at once; null for no limit.</summary>
    public int? KeyConcurrency { get; init; }

    /// <summary>How many of its workflows start per period, in all; null for no limit.</summary>
    public QueueRateLimit? RateLimit { get; init; }

    /// <summary>How many of its workflows with the same key start per period; null for no limit.</summary>
    public QueueRateLimit? KeyRateLimit { get; init; }

    /// <summary>
    /// Whether a workflow that sleeps (<see cref="IWorkflowContext.SleepAsync"/>, or any timer) longer than the host
    /// keeps idle workflows gives its slot back until its timer is due; then it waits for a slot as enqueued workflows
    /// do (ahead of those enqueued after it), and its admission counts in the rate limits again. False by default: the
    /// slot is held to the end, so that a key concurrency of 1 is a mutual exclusion. Waits for signals and children
    /// hold the slot either way.
    /// </summary>
    public bool ReleaseSlotWhileSleeping { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming a limit that is not valid.</summary>
    internal QueueOptions Checked()
    {
        if (Concurrency is < 1)
            throw new ArgumentException($"Queue '{Name}': concurrency must be at least 1, not {Concurrency}.");
        if (KeyConcurrency is < 1)
            throw new ArgumentException($"Queue '{Name}': key concurrency must be at least 1, not {KeyConcurrency}.");
        RateLimit?.Check(Name, "rate limit");
        KeyRateLimit?.Check(Name, "key rate limit");
        return this;
    }

    /// <summary>The longest period of its rate limits: how long a start counts.</summary>
    internal TimeSpan Window => TimeSpan.FromTicks(Math.Max(RateLimit?.Period.Ticks ?? 0, KeyRateLimit?.Period.Ticks ?? 0));

    /// <summary>Its limits in words, as the CLI and the dashboard show them (<c>concurrency 2, key concurrency 1</c>).</summary>
    public string Describe()
    {
        var parts = new List<string>
        {
            Concurrency is { } c ? $"concurrency {c}" : "no concurrency limit",
        };
        if (KeyConcurrency is { } k)
            parts.Add($"key concurrency {k}");
        if (RateLimit is { } r)
            parts.Add($"rate {r}");
        if (KeyRateLimit is { } kr)
            parts.Add($"key rate {kr}");
        if (ReleaseSlotWhileSleeping)
            parts.Add("slot released while sleeping");
        return string.Join(", ", parts);
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();
}

/// <summary>At most <paramref name="Starts"/> workflows start in any period of <paramref name="Period"/>.</summary>
/// <param name="Starts">At least 1.</param>
/// <param name="Period">More than zero.</param>
public sealed record QueueRateLimit(int Starts, TimeSpan Period)
{
    internal void Check(string queue, string what)
    {
        if (Starts < 1)
            throw new ArgumentException($"Queue '{queue}': the {what} allows at least 1 start per period, not {Starts}.");
        if (Period <= TimeSpan.Zero)
            throw new ArgumentException($"Queue '{queue}': the {what}'s period must be more than zero, not {Period}.");
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Starts.ToString(CultureInfo.InvariantCulture)} per {Period}";
}

/// <summary>How <see cref="WorkflowClient.EnqueueAsync{TInput, TResult}"/> enqueues a workflow.</summary>
public sealed record EnqueueOptions
{
    /// <summary>Enqueues on <paramref name="queue"/>, a declared queue.</summary>
    public EnqueueOptions(string queue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        Queue = queue;
    }

    /// <summary>The most characters of a key or a deduplication id.</summary>
    public const int MaxIdLength = 200;

    /// <summary>The queue.</summary>
    public string Queue { get; }

    /// <summary>The key its per-key limits count by (a customer, a tenant); null: only the queue's limits apply.</summary>
    public string? Key { get; init; }

    /// <summary>Lower runs first (0 is the highest and the default); among equals, the earlier enqueued.</summary>
    public int Priority { get; init; }

    /// <summary>
    /// While a workflow enqueued on this queue with this id is enqueued or runs, enqueuing another with it returns the
    /// first's handle and enqueues nothing.
    /// </summary>
    public string? DeduplicationId { get; init; }

    /// <summary>It is not admitted before this time (of the workflow clock); null for at once.</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>It is not admitted before this long from now; an alternative to <see cref="NotBefore"/>.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>How long the workflow may take from its enqueue, its time in the queue included (as <see cref="StartOptions.Timeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// Debounces the enqueues of <see cref="Key"/> (required) on this queue: while a debounced workflow of the key waits,
    /// an enqueue joins it instead of adding one (its handle is that workflow's), replaces its input, and puts its start
    /// off to a period after this enqueue, but no later than <see cref="QueueDebounce.MaxWait"/> after the first. Once
    /// it was admitted, the next enqueue of the key begins a new one.
    /// </summary>
    public QueueDebounce? Debounce { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming what is not valid.</summary>
    internal void Check()
    {
        if (Priority < 0)
            throw new ArgumentException($"Queue '{Queue}': a priority is 0 or more, not {Priority}.");
        if (Key is { Length: 0 or > MaxIdLength })
            throw new ArgumentException($"Queue '{Queue}': a key is 1 to {MaxIdLength} characters.");
        if (DeduplicationId is { Length: 0 or > MaxIdLength })
            throw new ArgumentException($"Queue '{Queue}': a deduplication id is 1 to {MaxIdLength} characters.");
        if (Delay is { } delay && delay < TimeSpan.Zero)
            throw new ArgumentException($"Queue '{Queue}': a delay is zero or more, not {delay}.");
        if (Delay is not null && NotBefore is not null)
            throw new ArgumentException($"Queue '{Queue}': give a delay or a not-before time, not both.");
        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
            throw new ArgumentException($"Queue '{Queue}': the timeout must be more than zero, not {timeout}.");
        if (Debounce is not { } debounce)
            return;
        if (Key is null)
            throw new ArgumentException($"Queue '{Queue}': a debounce needs a key (the enqueues it gathers).");
        if (DeduplicationId is not null || Delay is not null || NotBefore is not null)
            throw new ArgumentException($"Queue '{Queue}': a debounce sets the start time itself; give no deduplication id, delay or not-before time with it.");
        if (debounce.Period <= TimeSpan.Zero)
            throw new ArgumentException($"Queue '{Queue}': a debounce period must be more than zero, not {debounce.Period}.");
        if (debounce.MaxWait is { } most && most < debounce.Period)
            throw new ArgumentException($"Queue '{Queue}': a debounce's longest wait ({most}) must be at least its period ({debounce.Period}).");
    }
}

/// <summary>
/// A debounce (<see cref="EnqueueOptions.Debounce"/>): the workflow starts <paramref name="Period"/> after the last
/// enqueue of its key, with that enqueue's input, but no later than <paramref name="MaxWait"/> after the first (null: no limit).
/// </summary>
/// <param name="Period">More than zero.</param>
/// <param name="MaxWait">At least the period; null for none.</param>
public sealed record QueueDebounce(TimeSpan Period, TimeSpan? MaxWait = null);

/// <summary>A queue as it stands: its limits, its enqueued workflows and those that run.</summary>
/// <param name="Options">The queue's declaration on this host.</param>
/// <param name="Enqueued">Its workflows waiting to be admitted.</param>
/// <param name="Running">Its admitted workflows that have not ended.</param>
/// <param name="RunningByKey">Of those, how many per key (keyless ones are not counted here).</param>
/// <param name="NextNotBefore">The earliest not-before time of an enqueued workflow still to come, if any.</param>
public sealed record QueueInfo(QueueOptions Options, int Enqueued, int Running, IReadOnlyDictionary<string, int> RunningByKey, DateTimeOffset? NextNotBefore);
