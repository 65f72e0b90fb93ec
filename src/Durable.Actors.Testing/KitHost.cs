using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Advanced;

namespace Durable.Actors.Testing;

/// <summary>
/// One host of the kit: an ActorSystem running the engine on a SQLite file with the virtual clock, the hooks that
/// count step bodies and tell when the host is quiet, and the gate through which every journal write passes (where
/// a crash stops them).
/// </summary>
internal sealed class KitHost : IAsyncDisposable
{
    private KitHost(int number, ActorSystem system, IActorRef coordinator, HostGate gate)
    {
        Number = number;
        System = system;
        Coordinator = coordinator;
        Gate = gate;
    }

    public int Number { get; }

    public ActorSystem System { get; }

    public IActorRef Coordinator { get; }

    public HostGate Gate { get; }

    public static KitHost Start(int number, string databasePath, WorkflowRegistry registry, VirtualClock clock, HostGate gate, string logLevel, string? hocon, IWorkflowObserver? observer)
    {
        var path = Path.GetFullPath(databasePath);
        var ours = ConfigurationFactory.ParseString($"""
            durable-actors.database-path = "{path.Replace("\\", "\\\\", StringComparison.Ordinal)}"
            durable-actors.sqlite.synchronous = NORMAL
            akka.loglevel = {logLevel}
            akka.stdout-loglevel = OFF
            """);
        var config = hocon is null ? ours : ConfigurationFactory.ParseString(hocon).WithFallback(ours);
        var hooks = new EngineHooks
        {
            Clock = clock,
            StepBodyStarting = report => gate.BodyStarting(number, report),
            StepBodyEnded = (report, returned) => gate.BodyEnded(report, returned),
            WriteGate = gate,
        };
        var system = ActorSystem.Create("durable-test-host", DurableWorkflows.CreateSetup(config).And(hooks));
        try
        {
            var coordinator = DurableWorkflows.Start(system, registry, observer);
            return new KitHost(number, system, coordinator, gate);
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(30));
            throw;
        }
    }

    /// <summary>
    /// Whether the host is quiet: its gate saw nothing for <paramref name="settle"/> (no step body runs, no write is
    /// under way), and its workflows' actors say twice in a row that every piece of workflow code awaits time, a signal
    /// or another workflow (twice: a message on its way from one actor to another is seen by the second question).
    /// </summary>
    public async Task<bool> IsQuietAsync(TimeSpan settle)
    {
        if (!Gate.IsQuiet(settle))
            return false;
        var since = Gate.LastActivity;
        for (var question = 0; question < 2; question++)
        {
            if (!await EngineActivity.IsQuietAsync(System, QuietQuestionTimeout).ConfigureAwait(false))
                return false;
        }
        return Gate.IsQuiet(settle) && Gate.LastActivity == since;
    }

    private static readonly TimeSpan QuietQuestionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Tears the host down; with a crashed gate nothing more reaches the database meanwhile.</summary>
    public async ValueTask DisposeAsync()
    {
        // The journal's writer stops with the system; the next host on this file brings its own gate.
        await System.Terminate().ConfigureAwait(false);
    }
}

/// <summary>Where a crash is planned: after the k-th committed journal write, or after the m-th step body returned.</summary>
internal sealed record CrashPlan(int? AfterWrite, int? AfterBody);

/// <summary>A committed journal write, numbered from 1 in the order of the commits.</summary>
internal sealed record CommittedWrite(int Number, JournalWrite Write);

internal sealed class HostCrashedException() : Exception("The host crashed (test kit): the step's body did not run.");

/// <summary>
/// Sees every journal write and step body of one host: counts them, keeps what was committed, tells when the host
/// is quiet, and carries out a crash: from its moment on no write is admitted and no step body starts.
/// </summary>
internal sealed class HostGate(CrashPlan? plan, VirtualClock clock) : IJournalWriteGate
{
    private readonly Lock _gate = new();
    private readonly List<CommittedWrite> _committed = [];
    private readonly Dictionary<string, (string StepId, int Runs)> _bodyRuns = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _crashed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _bodiesRunning;
    private int _writesInFlight;
    private int _bodiesReturned;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private long _armings = -1;

    public Task Crashed => _crashed.Task;

    public bool HasCrashed => _crashed.Task.IsCompleted;

    /// <summary>Where the crash happened, in words.</summary>
    public string? CrashPoint { get; private set; }

    /// <summary>The step a crash after a body's return cut, or the step the crashing write started.</summary>
    public (string? Key, string? StepId) CrashStep { get; private set; }

    public IReadOnlyList<CommittedWrite> Committed
    {
        get
        {
            lock (_gate)
                return [.. _committed];
        }
    }

    public int BodiesReturned
    {
        get
        {
            lock (_gate)
                return _bodiesReturned;
        }
    }

    /// <summary>How many times each step body started in this host, by step key.</summary>
    public IReadOnlyDictionary<string, (string StepId, int Runs)> BodyRuns
    {
        get
        {
            lock (_gate)
                return new Dictionary<string, (string, int)>(_bodyRuns, StringComparer.Ordinal);
        }
    }

    public bool Admit(JournalWrite write)
    {
        lock (_gate)
        {
            Touch();
            if (HasCrashed)
                return false;
            _writesInFlight++;
            return true;
        }
    }

    public void Ended(JournalWrite write, bool committed)
    {
        lock (_gate)
        {
            Touch();
            _writesInFlight--;
            if (!committed)
                return;
            var number = _committed.Count + 1;
            _committed.Add(new CommittedWrite(number, write));
            if (plan?.AfterWrite == number)
            {
                var started = write.Changes.LastOrDefault(c => c.Kind == JournalChangeKind.StepStarted);
                CrashStep = (started?.Key, started?.Name);
                Crash($"after journal write {number} ({write})");
            }
        }
    }

    public void BodyStarting(int host, StepReport report)
    {
        lock (_gate)
        {
            Touch();
            _bodiesRunning++;
            if (HasCrashed)
                throw new HostCrashedException();
            _bodyRuns[report.Key] = (report.StepId, _bodyRuns.GetValueOrDefault(report.Key).Runs + 1);
        }
        StepScope.Current = new RunningStep(host, report.WorkflowId, report.Key, report.StepId);
    }

    public void BodyEnded(StepReport report, bool returned)
    {
        StepScope.Current = null;
        lock (_gate)
        {
            Touch();
            _bodiesRunning--;
            if (!returned || HasCrashed)
                return;
            _bodiesReturned++;
            if (plan?.AfterBody == _bodiesReturned)
            {
                CrashStep = (report.Key, report.StepId);
                Crash($"after the body of step {report.Key} '{report.StepId}' returned, before its record was written (step body {_bodiesReturned})");
            }
        }
    }

    /// <summary>When something last happened (a <see cref="Stopwatch"/> timestamp).</summary>
    public long LastActivity => Interlocked.Read(ref _lastActivity);

    /// <summary>Marks something happening now (a signal sent, the clock moved).</summary>
    public void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

    /// <summary>No step body runs, no write is under way, no timer was armed, and nothing happened for <paramref name="settle"/>.</summary>
    public bool IsQuiet(TimeSpan settle)
    {
        var armings = clock.Armings;
        if (Interlocked.Exchange(ref _armings, armings) != armings)
            Touch();
        lock (_gate)
            return _bodiesRunning == 0 && _writesInFlight == 0
                && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity)) >= settle;
    }

    private void Crash(string point)
    {
        CrashPoint = point;
        _crashed.TrySetResult();
    }
}
