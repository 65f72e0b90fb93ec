using Akka.Actor;

namespace Durable.Actors.Testing;

/// <summary>How a <see cref="WorkflowTestHost"/> runs.</summary>
public sealed record WorkflowTestHostOptions
{
    /// <summary>The virtual clock's start when none is given: 2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStartTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The virtual clock's time when the host starts.</summary>
    public DateTimeOffset StartTime { get; init; } = DefaultStartTime;

    /// <summary>
    /// Whether time moves by itself while the test awaits a result through the host (<see cref="WorkflowTestHost.GetResultAsync{TResult}"/>,
    /// <see cref="WorkflowTestHost.RunAsync{TInput, TResult}"/>): whenever the host is quiet, to the next timer due. On by default.
    /// </summary>
    public bool AutoAdvance { get; init; } = true;

    /// <summary>The SQLite file; a new file in a temporary folder (deleted on dispose) when null.</summary>
    public string? DatabasePath { get; init; }

    /// <summary>HOCON over the kit's (<c>durable-actors.*</c> keys, <c>akka.loglevel</c>, …).</summary>
    public string? Hocon { get; init; }

    /// <summary>Told about every step; optional.</summary>
    public IWorkflowObserver? Observer { get; init; }
}

/// <summary>
/// The engine in-process on a real SQLite file, with a virtual clock: <c>SleepAsync(3 days)</c>, signal timeouts and
/// retry delays complete as soon as the test moves time (<see cref="AdvanceAsync"/>), or by themselves while the test
/// awaits a result. Real time is never waited for them.
/// </summary>
/// <example>
/// <code>
/// await using var host = await WorkflowTestHost.StartAsync(registry);
/// var handle = await host.Client.StartAsync&lt;ExpenseRequest, string&gt;("approval", "exp-1", request);
/// await host.AdvanceAsync(TimeSpan.FromDays(3));               // the wait for a decision times out
/// Assert.Equal("escalated", await host.GetResultAsync(handle));
/// </code>
/// </example>
public sealed class WorkflowTestHost : IAsyncDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan QuietTimeout = TimeSpan.FromSeconds(60);

    private readonly KitHost _host;
    private readonly WorkflowTestHostOptions _options;
    private readonly string? _ownFolder;

    private WorkflowTestHost(KitHost host, VirtualClock clock, WorkflowTestHostOptions options, string? ownFolder, string databasePath)
    {
        _host = host;
        Clock = clock;
        _options = options;
        _ownFolder = ownFolder;
        DatabasePath = databasePath;
    }

    /// <summary>The virtual clock every timer of the engine reads.</summary>
    public VirtualClock Clock { get; }

    /// <summary>The host's ActorSystem.</summary>
    public ActorSystem System => _host.System;

    /// <summary>The workflow coordinator (send it the engine's messages).</summary>
    public IActorRef Coordinator => _host.Coordinator;

    /// <summary>The typed client: start workflows, signal, cancel.</summary>
    public WorkflowClient Client => DurableWorkflows.Client(_host.System);

    /// <summary>The SQLite file.</summary>
    public string DatabasePath { get; }

    /// <summary>Starts a host running the workflows of <paramref name="registry"/>.</summary>
    /// <exception cref="DatabaseUnavailableException">The database cannot be opened.</exception>
    public static Task<WorkflowTestHost> StartAsync(WorkflowRegistry registry, WorkflowTestHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        options ??= new WorkflowTestHostOptions();
        string? ownFolder = null;
        var path = options.DatabasePath;
        if (path is null)
        {
            ownFolder = Path.Combine(Path.GetTempPath(), "durable-actors-test-host", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(ownFolder);
            path = Path.Combine(ownFolder, "workflows.db");
        }
        var clock = new VirtualClock(options.StartTime);
        var host = KitHost.Start(1, path, registry, clock, new HostGate(null, clock), "ERROR", options.Hocon, options.Observer);
        return Task.FromResult(new WorkflowTestHost(host, clock, options, ownFolder, Path.GetFullPath(path)));
    }

    /// <summary>
    /// Moves the clock by <paramref name="by"/>: waits until the host is quiet, then fires each timer due meanwhile in due
    /// order, letting the host settle after each (so a workflow that sleeps again within the span wakes again).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="by"/> is negative.</exception>
    public async Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        var target = Clock.GetUtcNow() + by;
        await WaitQuietAsync(cancellationToken).ConfigureAwait(false);
        while (Clock.FireNext(target))
        {
            _host.Gate.Touch();
            await WaitQuietAsync(cancellationToken).ConfigureAwait(false);
        }
        Clock.Advance(target - Clock.GetUtcNow() is { } rest && rest > TimeSpan.Zero ? rest : TimeSpan.Zero);
        await WaitQuietAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the host is quiet: no step body runs, no journal write is under way, every workflow's code awaits
    /// time, a signal or another workflow, and nothing happened for a moment.
    /// </summary>
    /// <exception cref="TimeoutException">The host was busy for a minute.</exception>
    public async Task WaitQuietAsync(CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + QuietTimeout;
        while (!await _host.IsQuietAsync(Settle).ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The test host was still busy after {QuietTimeout.TotalSeconds:0} s.");
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts <paramref name="workflowType"/> and returns its result; time moves by itself meanwhile (see <see cref="WorkflowTestHostOptions.AutoAdvance"/>).</summary>
    /// <exception cref="WorkflowFailedException">The workflow failed.</exception>
    /// <exception cref="WorkflowCancelledException">The workflow was cancelled.</exception>
    public async Task<TResult> RunAsync<TInput, TResult>(string workflowType, string workflowId, TInput input, CancellationToken cancellationToken = default)
    {
        var handle = await Client.StartAsync<TInput, TResult>(workflowType, workflowId, input, cancellationToken).ConfigureAwait(false);
        return await GetResultAsync(handle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Awaits the workflow's result; while it waits, whenever the host is quiet and a timer is armed, time moves to it
    /// (unless <see cref="WorkflowTestHostOptions.AutoAdvance"/> is off). Send signals before awaiting: a wait with a
    /// timeout times out as soon as nothing else can happen.
    /// </summary>
    /// <exception cref="WorkflowFailedException">The workflow failed.</exception>
    /// <exception cref="WorkflowCancelledException">The workflow was cancelled.</exception>
    public async Task<TResult> GetResultAsync<TResult>(WorkflowHandle<TResult> handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var result = handle.GetResultAsync(stop.Token);
        while (!result.IsCompleted)
        {
            if (_options.AutoAdvance && Clock.NextDue is not null && await _host.IsQuietAsync(Settle).ConfigureAwait(false))
            {
                Clock.FireNext(DateTimeOffset.MaxValue);
                _host.Gate.Touch();
                continue;
            }
            await Task.WhenAny(result, Task.Delay(5, cancellationToken)).ConfigureAwait(false);
        }
        return await result.ConfigureAwait(false);
    }

    /// <summary>The workflow's status and steps, read from the journal; null for an unknown id.</summary>
    public Task<WorkflowStatus?> GetStatusAsync(string workflowId, CancellationToken cancellationToken = default) =>
        DurableWorkflows.GetStatusAsync(_host.System, workflowId, cancellationToken);

    /// <summary>How many times the body of the step at <paramref name="stepKey"/> (<c>workflowId:sequence</c>) ran in this host.</summary>
    public int BodyRuns(string stepKey) => _host.Gate.BodyRuns.GetValueOrDefault(stepKey).Runs;

    /// <summary>Stops the host and deletes the database it created.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync().ConfigureAwait(false);
        if (_ownFolder is null)
            return;
        try
        {
            Directory.Delete(_ownFolder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
