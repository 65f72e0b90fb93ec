using System.Globalization;
using System.Text;
using Akka.Configuration;
using Durable.Actors.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Durable.Actors;

/// <summary>Options of <see cref="AkkaHostingExtensions.WithDurableWorkflows"/>. Unset properties keep the defaults of <c>hocon/durable-actors.conf</c>.</summary>
public sealed class DurableWorkflowsOptions
{
    /// <summary>The workflow types this host runs.</summary>
    public WorkflowRegistry Workflows { get; } = new();

    private readonly List<Action<IServiceProvider>> _fromServices = [];

    /// <summary>
    /// Registers <typeparamref name="TWorkflow"/> under <paramref name="workflowType"/>, made for each run in a
    /// dependency-injection scope of its own: its constructor's dependencies come from the host's services (scoped
    /// ones live as long as the run), and the scope is disposed when the run ends. <typeparamref name="TWorkflow"/>
    /// itself need not be registered.
    /// </summary>
    /// <typeparam name="TWorkflow">The workflow class.</typeparam>
    /// <typeparam name="TInput">Its input.</typeparam>
    /// <typeparam name="TResult">Its result.</typeparam>
    /// <param name="workflowType">The name used by <see cref="StartWorkflow"/> and recorded in the journal.</param>
    /// <returns>These options.</returns>
    public DurableWorkflowsOptions AddWorkflow<TWorkflow, TInput, TResult>(string workflowType)
        where TWorkflow : class, IWorkflow<TInput, TResult>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workflowType);
        _fromServices.Add(services => Workflows.Add(workflowType, () =>
        {
            var scope = services.GetRequiredService<IServiceScopeFactory>().CreateScope();
            try
            {
                return new WorkflowInstance<TInput, TResult>(ActivatorUtilities.CreateInstance<TWorkflow>(scope.ServiceProvider), scope);
            }
            catch
            {
                scope.Dispose();
                throw;
            }
        }));
        return this;
    }

    /// <summary>Adds the workflow types registered with <see cref="AddWorkflow{TWorkflow, TInput, TResult}"/>, once the host's services exist.</summary>
    internal void AddFromServices(IServiceProvider services)
    {
        foreach (var add in _fromServices)
            add(services);
        _fromServices.Clear();
    }

    /// <summary>Told about every step; optional.</summary>
    public IWorkflowObserver? Observer { get; set; }

    /// <summary>The SQLite database file (<c>durable-actors.database-path</c>, default <c>durable.db</c>).</summary>
    public string? DatabasePath { get; set; }

    /// <summary>A full Microsoft.Data.Sqlite connection string used instead of <see cref="DatabasePath"/> (<c>durable-actors.connection-string</c>).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Age after which an IN_PROGRESS step is a zombie to run again (<c>durable-actors.stale-timeout</c>, default 30 s).</summary>
    public TimeSpan? StaleTimeout { get; set; }

    /// <summary>SQLite synchronous mode, <c>FULL</c> or <c>NORMAL</c> (<c>durable-actors.sqlite.synchronous</c>, default FULL).</summary>
    public string? Synchronous { get; set; }

    /// <summary>How long a connection waits on a lock before it reports busy (<c>durable-actors.sqlite.busy-timeout</c>, default 5 s).</summary>
    public TimeSpan? BusyTimeout { get; set; }

    /// <summary>
    /// Lets the engine add its tables to a database that already has tables of another application
    /// (<c>durable-actors.allow-foreign-database</c>, default off: such a database is refused).
    /// </summary>
    public bool? AllowForeignDatabase { get; set; }

    /// <summary>
    /// How long ended workflows are kept before they are purged, per status (<c>durable-actors.retention</c>, default:
    /// kept for ever); null leaves the configuration as it is.
    /// </summary>
    public RetentionPeriods? Retention { get; set; }

    internal Config ToConfig()
    {
        var hocon = new StringBuilder();
        if (DatabasePath is { } path)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.database-path = {Quote(path)}");
        if (ConnectionString is { } cs)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.connection-string = {Quote(cs)}");
        if (StaleTimeout is { } stale)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.stale-timeout = {(long)stale.TotalMilliseconds}ms");
        if (Synchronous is { } synchronous)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.sqlite.synchronous = {Quote(synchronous)}");
        if (BusyTimeout is { } busy)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.sqlite.busy-timeout = {(long)busy.TotalMilliseconds}ms");
        if (AllowForeignDatabase is { } allow)
            hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.allow-foreign-database = {(allow ? "on" : "off")}");
        if (Retention is { } retention)
        {
            foreach (var (key, period) in new[] { ("completed", retention.Completed), ("failed", retention.Failed), ("cancelled", retention.Cancelled) })
                hocon.AppendLine(CultureInfo.InvariantCulture, $"durable-actors.retention.{key} = {(period is { } p ? $"{(long)p.TotalMilliseconds}ms" : "off")}");
        }
        return hocon.Length == 0 ? Config.Empty : ConfigurationFactory.ParseString(hocon.ToString());
    }

    internal static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>How long ended workflows are kept before the retention sweep purges them (<see cref="PurgeWorkflow"/>), per status.</summary>
/// <param name="Completed">Completed workflows; null keeps them for ever.</param>
/// <param name="Failed">Failed workflows; null keeps them for ever.</param>
/// <param name="Cancelled">Cancelled workflows; null keeps them for ever.</param>
public sealed record RetentionPeriods(TimeSpan? Completed = null, TimeSpan? Failed = null, TimeSpan? Cancelled = null);
