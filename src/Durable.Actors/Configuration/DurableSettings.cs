using Akka.Actor;
using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Configuration;

/// <summary>The engine's settings, read once from the <c>durable-actors</c> section; code reads no config path elsewhere.</summary>
internal sealed record DurableSettings(
    string ConnectionString,
    string? DatabasePath,
    TimeSpan StaleTimeout,
    string Synchronous,
    TimeSpan BusyTimeout,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    int MaxRestarts,
    bool RecoverOnStart,
    RetryPolicy DefaultRetry,
    long MaxStepResultSize,
    TimeSpan PassivateAfter,
    int MaxIdleWorkflows,
    string JournalPluginId,
    string SnapshotPluginId,
    string QueryPluginId,
    bool AllowForeignDatabase,
    StorageProfile Storage,
    string SqlProviderName,
    string SqlConnectionString,
    string SqlJournalClass = "")
{
    /// <summary>How long ended workflows are kept, per status (<c>durable-actors.retention</c>).</summary>
    public RetentionSettings Retention { get; init; } = RetentionSettings.Off;

    /// <summary>Whether this host fires schedules (<c>schedules.enabled</c>).</summary>
    public bool SchedulesEnabled { get; init; } = true;

    /// <summary>How often a host reads the schedules again for the changes of other processes (<c>schedules.refresh-interval</c>).</summary>
    public TimeSpan ScheduleRefresh { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The queues declared in HOCON (<c>queues.&lt;name&gt;</c>), by name.</summary>
    public IReadOnlyDictionary<string, QueueOptions> Queues { get; init; } = new Dictionary<string, QueueOptions>();

    /// <summary>Whether this host admits enqueued workflows (<c>queue-dispatch.enabled</c>).</summary>
    public bool QueueDispatch { get; init; } = true;

    /// <summary>How often a host reads the queues again for the enqueues of other processes (<c>queue-dispatch.refresh-interval</c>).</summary>
    public TimeSpan QueueRefresh { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>release-memory-when-idle</c>: how long the host has had no workflow in memory before it hands memory back (<see cref="Runtime.IdleMemory"/>); null for never.</summary>
    public TimeSpan? ReleaseMemoryWhenIdle { get; init; }

    public const string Section = "durable-actors";

    private static Dictionary<string, QueueOptions> ReadQueues(Config c)
    {
        var queues = new Dictionary<string, QueueOptions>(StringComparer.Ordinal);
        if (!c.HasPath("queues"))
            return queues;
        // The section's own keys: a queue declared with no limit (`queues.q {}`) has no leaf under it but is declared.
        foreach (var name in c.GetConfig("queues").Root.GetObject().Items.Keys)
        {
            var q = c.GetConfig($"queues.{name}");
            int? Int(string key) => q.HasPath(key) ? q.GetInt(key) : null;
            QueueRateLimit? Rate(string key) => q.HasPath(key) ? new QueueRateLimit(q.GetInt($"{key}.starts"), q.GetTimeSpan($"{key}.period")) : null;
            try
            {
                queues[name] = new QueueOptions(name)
                {
                    Concurrency = Int("concurrency"),
                    KeyConcurrency = Int("key-concurrency"),
                    RateLimit = Rate("rate-limit"),
                    KeyRateLimit = Rate("key-rate-limit"),
                    ReleaseSlotWhileSleeping = q.HasPath("release-slot-while-sleeping") && q.GetBoolean("release-slot-while-sleeping"),
                }.Checked();
            }
            catch (Exception e) when (e is ArgumentException or FormatException or ConfigurationException)
            {
                throw new ConfigurationException($"{Section}.queues.{name}: {e.Message}");
            }
        }
        return queues;
    }

    /// <summary>The engine's own SQLite journal and query plugins are in use (its index, its direct reads, the host lease).</summary>
    public bool UsesEngineSqlite => Storage == StorageProfile.Sqlite && JournalPluginId == PersistencePlugins.JournalPath;

    private static (StorageProfile Profile, string Provider, string ConnectionString) ReadStorage(Config c)
    {
        var storage = c.GetString("storage", "sqlite");
        switch (storage.ToLowerInvariant())
        {
            case "sqlite":
                return (StorageProfile.Sqlite, "", "");
            case "sql":
                var provider = c.GetString("sql.provider-name", "");
                var cs = c.GetString("sql.connection-string", "");
                if (string.IsNullOrWhiteSpace(provider))
                    throw new ConfigurationException($"{Section}.sql.provider-name is empty; give a linq2db provider name (e.g. PostgreSQL.15).");
                if (string.IsNullOrWhiteSpace(cs))
                    throw new ConfigurationException($"{Section}.storage = sql needs {Section}.sql.connection-string (e.g. Host=127.0.0.1;Port=5432;Username=postgres;Database=durable).");
                return (StorageProfile.Sql, provider, cs);
            default:
                throw new ConfigurationException($"{Section}.storage = '{storage}' is not a storage profile; use sqlite or sql.");
        }
    }

    private static readonly string[] SynchronousModes = ["OFF", "NORMAL", "FULL", "EXTRA"];

    /// <summary>The embedded reference configuration (hocon/durable-actors.conf).</summary>
    public static Config Reference { get; } =
        ConfigurationFactory.FromResource<DurableSettings>("Durable.Actors.durable-actors.conf");

    private static TimeSpan NotNegative(TimeSpan value, string key) => value >= TimeSpan.Zero
        ? value
        : throw new ConfigurationException($"{Section}.{key} must not be negative.");

    private static TimeSpan PositiveTime(TimeSpan value, string key) => value > TimeSpan.Zero
        ? value
        : throw new ConfigurationException($"{Section}.{key} must be more than zero, not {value}.");

    private static int NotNegativeInt(int value, string key) => value >= 0
        ? value
        : throw new ConfigurationException($"{Section}.{key} must not be negative, not {value}.");

    private static int Positive(int value, string key) => value >= 1
        ? value
        : throw new ConfigurationException($"{Section}.{key} must be 1 or more, not {value}.");

    private static long ReadMaxStepResultSize(Config c)
    {
        var size = c.GetByteSize("max-step-result-size");
        return size is >= 1 ? size.Value : throw new ConfigurationException(
            $"{Section}.max-step-result-size must be a size of 1 byte or more (e.g. 1MiB), not '{c.GetString("max-step-result-size")}'.");
    }

    /// <summary>A setting that is a duration above zero or <c>off</c> (null); <paramref name="example"/> goes in the error.</summary>
    private static TimeSpan? PeriodOrOff(Config c, string key, string example)
    {
        var text = c.GetString(key, "off");
        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase) || string.Equals(text, "false", StringComparison.OrdinalIgnoreCase))
            return null;
        TimeSpan period;
        try
        {
            period = c.GetTimeSpan(key);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or OverflowException)
        {
            period = TimeSpan.Zero;
        }
        return period > TimeSpan.Zero
            ? period
            : throw new ConfigurationException($"{Section}.{key} must be a duration above zero (e.g. {example}) or off, not '{text}'.");
    }

    /// <summary><c>retention</c>: a period above zero, or <c>off</c>, per ended status.</summary>
    private static RetentionSettings ReadRetention(Config c)
    {
        TimeSpan? Period(string key) => PeriodOrOff(c, $"retention.{key}", "30d");
        var interval = c.GetTimeSpan("retention.sweep-interval");
        if (interval <= TimeSpan.Zero)
            throw new ConfigurationException($"{Section}.retention.sweep-interval must be above zero.");
        return new RetentionSettings(Period("completed"), Period("failed"), Period("cancelled"), interval,
            Positive(c.GetInt("retention.batch"), "retention.batch"));
    }

    public static DurableSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static DurableSettings Create(Config config)
    {
        var c = config.WithFallback(Reference).GetConfig(Section);

        var synchronous = c.GetString("sqlite.synchronous").ToUpperInvariant();
        if (!SynchronousModes.Contains(synchronous))
            throw new ConfigurationException(
                $"{Section}.sqlite.synchronous = '{synchronous}' is not a SQLite synchronous mode; use one of {string.Join(", ", SynchronousModes)}.");

        var staleTimeout = c.GetTimeSpan("stale-timeout");
        if (staleTimeout < TimeSpan.Zero)
            throw new ConfigurationException($"{Section}.stale-timeout must not be negative.");

        var busyTimeout = c.GetTimeSpan("sqlite.busy-timeout");
        var storage = ReadStorage(c);
        var explicitConnectionString = c.GetString("connection-string", "");
        string connectionString;
        string? databasePath;
        if (!string.IsNullOrWhiteSpace(explicitConnectionString))
        {
            var builder = new SqliteConnectionStringBuilder(explicitConnectionString);
            connectionString = builder.ConnectionString;
            databasePath = builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:"
                ? null
                : Path.GetFullPath(builder.DataSource);
        }
        else
        {
            var path = c.GetString("database-path");
            if (string.IsNullOrWhiteSpace(path))
                throw new ConfigurationException($"{Section}.database-path is empty; give a file path or set {Section}.connection-string.");
            databasePath = Path.GetFullPath(path);
            connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = databasePath,
                // Bounds Microsoft.Data.Sqlite's own retry loop on SQLITE_BUSY by the same busy timeout.
                DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
            }.ConnectionString;
        }

        return new DurableSettings(
            connectionString,
            databasePath,
            staleTimeout,
            synchronous,
            busyTimeout,
            c.GetTimeSpan("supervision.min-backoff"),
            c.GetTimeSpan("supervision.max-backoff"),
            Positive(c.GetInt("supervision.max-restarts"), "supervision.max-restarts"),
            c.GetBoolean("recover-on-start"),
            new RetryPolicy
            {
                MaxAttempts = Positive(c.GetInt("step-retry.max-attempts"), "step-retry.max-attempts"),
                InitialDelay = c.GetTimeSpan("step-retry.initial-delay"),
                BackoffCoefficient = c.GetDouble("step-retry.backoff-coefficient"),
                MaxDelay = c.GetTimeSpan("step-retry.max-delay"),
                Jitter = c.GetDouble("step-retry.jitter"),
            },
            ReadMaxStepResultSize(c),
            NotNegative(c.GetTimeSpan("passivate-after"), "passivate-after"),
            NotNegativeInt(c.GetInt("max-idle-workflows"), "max-idle-workflows"),
            c.GetString("journal-plugin"),
            c.GetString("snapshot-plugin"),
            c.GetString("query-plugin"),
            c.GetBoolean("allow-foreign-database"),
            storage.Profile,
            storage.Provider,
            storage.ConnectionString,
            c.GetString("sql.journal-class", ""))
        {
            Retention = ReadRetention(c),
            SchedulesEnabled = c.GetBoolean("schedules.enabled", true),
            ScheduleRefresh = PositiveTime(c.GetTimeSpan("schedules.refresh-interval", TimeSpan.FromSeconds(10)), "schedules.refresh-interval"),
            Queues = ReadQueues(c),
            QueueDispatch = c.GetBoolean("queue-dispatch.enabled", true),
            QueueRefresh = PositiveTime(c.GetTimeSpan("queue-dispatch.refresh-interval", TimeSpan.FromSeconds(5)), "queue-dispatch.refresh-interval"),
            ReleaseMemoryWhenIdle = PeriodOrOff(c, "release-memory-when-idle", "30s"),
        };
    }
}

/// <summary>How long ended workflows are kept before the retention sweep purges them: per status, null for ever.</summary>
internal sealed record RetentionSettings(TimeSpan? Completed, TimeSpan? Failed, TimeSpan? Cancelled, TimeSpan SweepInterval, int Batch)
{
    public static RetentionSettings Off { get; } = new(null, null, null, TimeSpan.FromMinutes(1), 100);

    /// <summary>The statuses with a period, and their periods.</summary>
    public IEnumerable<(WorkflowRunStatus Status, TimeSpan Period)> Periods()
    {
        if (Completed is { } completed)
            yield return (WorkflowRunStatus.Completed, completed);
        if (Failed is { } failed)
            yield return (WorkflowRunStatus.Failed, failed);
        if (Cancelled is { } cancelled)
            yield return (WorkflowRunStatus.Cancelled, cancelled);
    }
}

/// <summary>Where workflows are stored: the engine's SQLite file (one machine), or Akka.Persistence.Sql on another database (a cluster).</summary>
internal enum StorageProfile
{
    Sqlite,
    Sql,
}
