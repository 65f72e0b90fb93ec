using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

/// <summary>
/// One persistent actor per workflow: owns the step sequence counters of the current run and the step journal, and
/// starts runs of the workflow method outside its message loop. It never blocks; every record it makes is persisted
/// before the run that asked for it goes on.
/// </summary>
internal sealed class WorkflowActor : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdPrefix = "workflow-";

    private readonly string _workflowId;
    private readonly WorkflowRuntime _runtime;
    private readonly WorkflowJournal _journal = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, ParallelBranch> _branches = [];
    private readonly Dictionary<string, Exception> _branchErrors = new(StringComparer.Ordinal);
    private ActiveRun? _run;
    private long _branchActors;
    private int _lastRunId;

    public WorkflowActor(string workflowId, WorkflowRuntime runtime)
    {
        _workflowId = workflowId;
        _runtime = runtime;
        JournalPluginId = runtime.Settings.JournalPluginId;
        SnapshotPluginId = runtime.Settings.SnapshotPluginId;

        Recover<IJournalEvent>(_journal.Apply);

        Command<StartWorkflow>(OnStart);
        Command<ResumeWorkflow>(_ =>
        {
            if (_journal.Exists)
                JoinOrBeginRun(Sender);
            else
                Sender.Tell(new WorkflowNotFound(_workflowId));
        });
        Command<GetWorkflowStatus>(_ => Sender.Tell(_journal.Exists ? _journal.ToStatus(_workflowId) : new WorkflowNotFound(_workflowId)));
        Command<BeginStep>(OnBeginStep);
        Command<DecideStepAgain>(m =>
        {
            if (IsCurrent(m.RunId, m.Reply))
                DecideStep(m.Key, m.StepId, m.Reply);
        });
        Command<CompleteStep>(m =>
        {
            if (IsCurrent(m.RunId, m.Reply))
                Persist(new StepCompleted(m.Key, m.ResultJson, Now), e =>
                {
                    _journal.Apply(e);
                    m.Reply.TrySetResult();
                });
        });
        Command<FailStep>(m =>
        {
            if (IsCurrent(m.RunId, m.Reply))
                Persist(new StepFailed(m.Key, m.Error, Now), e =>
                {
                    _journal.Apply(e);
                    m.Reply.TrySetResult();
                });
        });
        Command<RunFinished>(OnRunFinished);
        Command<BeginParallel>(OnBeginParallel);
        Command<Terminated>(OnBranchTerminated);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId => PersistenceIdPrefix + _workflowId;

    private DateTimeOffset Now => _runtime.Clock.GetUtcNow();

    private void OnStart(StartWorkflow start)
    {
        if (_journal.Exists)
        {
            JoinOrBeginRun(Sender);
            return;
        }

        if (!_runtime.Registry.TryGet(start.WorkflowType, out var definition))
        {
            var known = string.Join(", ", _runtime.Registry.WorkflowTypes.Order(StringComparer.Ordinal));
            Sender.Tell(new WorkflowRejected(_workflowId, $"unknown workflow type '{start.WorkflowType}' (registered: {known})"));
            return;
        }

        var input = start.InputJson ?? "null";
        if (definition.ValidateInput(input, _runtime.Registry.JsonOptions) is { } inputError)
        {
            Sender.Tell(new WorkflowRejected(_workflowId, inputError));
            return;
        }

        var requester = Sender;
        Persist(new WorkflowStarted(start.WorkflowType, input, Now), e =>
        {
            _journal.Apply(e);
            JoinOrBeginRun(requester);
        });
    }

    private void JoinOrBeginRun(IActorRef requester)
    {
        if (_run is not null)
        {
            _run.Waiters.Add(requester);
            return;
        }

        if (!_runtime.Registry.TryGet(_journal.WorkflowType!, out var definition))
        {
            requester.Tell(new WorkflowRejected(_workflowId,
                $"workflow type '{_journal.WorkflowType}' recorded for this workflow is not registered in this host"));
            return;
        }

        var run = new ActiveRun(++_lastRunId);
        run.Waiters.Add(requester);
        _run = run;
        var token = run.Cancellation.Token;
        var context = new WorkflowContext(_workflowId, run.Id, Self, _runtime, scope: "", token, token);
        RunAsync(definition, context, run.Id, _journal.InputJson).PipeTo(Self);
    }

    private Task<RunFinished> RunAsync(IWorkflowDefinition definition, WorkflowContext context, int runId, string inputJson)
    {
        var json = _runtime.Registry.JsonOptions;
        // Task.Run: the workflow method must not run its synchronous start on the actor's thread.
        return Task.Run(async () =>
        {
            try
            {
                var result = await definition.RunAsync(context, inputJson, json).ConfigureAwait(false);
                return new RunFinished(runId, result, null);
            }
            catch (Exception e)
            {
                return new RunFinished(runId, null, Describe(e, context));
            }
        });
    }

    private static Exception Describe(Exception error, WorkflowContext context) =>
        context.LastStepFailure is { } failure && ReferenceEquals(failure.Error, error) && error is not DurableActorsException
            ? new StepBodyFailedException($"step '{failure.StepId}' ({failure.Key}) failed: {error.GetType().Name}: {error.Message}", error)
            : error;

    private void OnRunFinished(RunFinished finished)
    {
        if (_run is not { } run || run.Id != finished.RunId)
            return;

        var violation = run.Violation;
        if (violation is null && finished.ResultJson is { } result)
        {
            if (_journal.Status == WorkflowRunStatus.Completed && _journal.ResultJson == result)
            {
                EndRun(new WorkflowCompleted(_workflowId, result));
                return;
            }
            Persist(new RunCompleted(result, Now), e =>
            {
                _journal.Apply(e);
                EndRun(new WorkflowCompleted(_workflowId, result));
            });
            return;
        }

        var error = violation?.Message ?? finished.Error switch
        {
            StepBodyFailedException e => e.Message,
            DurableActorsException e => e.Message,
            OperationCanceledException => "the run was cancelled",
            { } e => $"{e.GetType().Name}: {e.Message}",
            null => "the run ended without a result",
        };
        Persist(new RunFailed(error, Now), e =>
        {
            _journal.Apply(e);
            EndRun(new WorkflowFailed(_workflowId, error));
        });
    }

    private void EndRun(object reply)
    {
        var run = _run!;
        _run = null;
        foreach (var waiter in run.Waiters)
            waiter.Tell(reply);
        run.Cancellation.Dispose();
    }

    private void OnBeginStep(BeginStep begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var key = StepKeys.Of(_workflowId, begin.Scope, _run!.Reserve(begin.Scope, 1));
        DecideStep(key, begin.StepId, begin.Reply);
    }

    private void DecideStep(string key, string stepId, TaskCompletionSource<StepDecision> reply)
    {
        if (!_journal.TryGetStep(key, out var step))
        {
            if (_journal.IsBranchKey(key))
                Violate(key, "a parallel branch", stepId, e => reply.TrySetException(e));
            else
                PersistStepStarted(key, stepId, attempt: 1, reply);
            return;
        }

        if (step.StepId != stepId)
        {
            Violate(key, step.StepId, stepId, e => reply.TrySetException(e));
            return;
        }

        switch (step.Status)
        {
            case StepStatus.Completed:
                reply.TrySetResult(new ReplayStep(key, step.ResultJson!));
                break;
            case StepStatus.Failed:
                PersistStepStarted(key, stepId, step.Attempts + 1, reply);
                break;
            case StepStatus.InProgress:
                DecideOnInProgress(step, reply);
                break;
        }
    }

    private void Violate(string key, string recorded, string requested, Action<Exception> fail)
    {
        var violation = new WorkflowNondeterminismException(_workflowId, key, recorded, requested);
        _run!.Violation ??= violation;
        fail(violation);
    }

    private void OnBeginParallel(BeginParallel begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var count = begin.Branches.Count;
        var keys = Enumerable.Range(_run!.Reserve(begin.Scope, count), count).Select(n => StepKeys.Of(_workflowId, begin.Scope, n)).ToList();
        var block = $"a parallel block of {count} branches";
        void Fail(Exception e) => begin.Reply.TrySetException(e);

        if (_journal.TryGetBlock(keys[0], out var recorded))
        {
            if (recorded == count)
                StartBranches(begin, keys);
            else
                Violate(keys[0], $"a parallel block of {recorded} branches", block, Fail);
            return;
        }
        foreach (var key in keys)
        {
            if (_journal.TryGetStep(key, out var step))
            {
                Violate(key, step.StepId, block, Fail);
                return;
            }
            if (_journal.IsBranchKey(key))
            {
                Violate(key, "a branch of another parallel block", block, Fail);
                return;
            }
        }

        Persist(new BranchesReserved(keys[0], count, Now), e =>
        {
            _journal.Apply(e);
            StartBranches(begin, keys);
        });
    }

    private void StartBranches(BeginParallel begin, IReadOnlyList<string> keys)
    {
        var branches = new List<ParallelBranch>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            var scope = keys[i][(_workflowId.Length + 1)..] + ".";
            var branch = new ParallelBranch(keys[i], i + 1, begin.Parent.ForBranch(scope, begin.BlockToken),
                new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously));
            var body = begin.Branches[i];
            var child = Context.ActorOf(Props.Create(() => new BranchActor(branch, body)), $"branch-{++_branchActors}");
            Context.Watch(child);
            _branches[child] = branch;
            branches.Add(branch);
        }
        begin.Reply.TrySetResult(branches);
    }

    /// <summary>
    /// A branch that throws crashes its actor; this strategy stops it and keeps the error for the block, which reports
    /// it (so the crash is not logged twice).
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        if (error is BranchFailedException failed)
            _branchErrors[failed.BranchKey] = failed.InnerException!;
        else
            _log.Error(error, "A branch actor of workflow [{0}] crashed", _workflowId);
        return Directive.Stop;
    }, loggingEnabled: false);

    private void OnBranchTerminated(Terminated terminated)
    {
        if (!_branches.Remove(terminated.ActorRef, out var branch))
            return;
        var error = _branchErrors.Remove(branch.Key, out var thrown)
            ? thrown
            : new InvalidOperationException($"The actor of branch {branch.Key} stopped before its branch ended.");
        branch.Completion.TrySetException(error);
    }

    /// <summary>An IN_PROGRESS record at the start of a step is a zombie of a crashed run, or a run elsewhere still going.</summary>
    private void DecideOnInProgress(WorkflowJournal.StepEntry step, TaskCompletionSource<StepDecision> reply)
    {
        var age = Now - step.StartedAt;
        var staleTimeout = _runtime.Settings.StaleTimeout;
        if (age >= staleTimeout)
        {
            var stale = new StepFailed(step.Key,
                $"stale: IN_PROGRESS for {Format(age)}, older than the stale timeout {Format(staleTimeout)}", Now);
            var restarted = new StepStarted(step.Key, step.StepId, step.Attempts + 1, Now);
            _log.Warning("Step [{0}] ({1}) of workflow [{2}] was left IN_PROGRESS {3} ago; marking it FAILED and running it again",
                step.Key, step.StepId, _workflowId, Format(age));
            PersistAll(new IJournalEvent[] { stale, restarted }, e =>
            {
                _journal.Apply(e);
                if (e is StepStarted s)
                    reply.TrySetResult(new ExecuteStep(s.Key, s.Attempt));
            });
            return;
        }

        var remaining = staleTimeout - age;
        var detail = $"IN_PROGRESS since {Format(age)} ago; it turns stale and runs again in {Format(remaining)}";
        _log.Info("Step [{0}] ({1}) of workflow [{2}] is {3}", step.Key, step.StepId, _workflowId, detail);
        _runtime.Report(new StepReport(_workflowId, step.Key, step.StepId, step.Attempts, StepReportKind.Waiting, detail));
        Timers.StartSingleTimer(step.Key, new DecideStepAgain(_run!.Id, step.Key, step.StepId, reply), remaining);
    }

    private void PersistStepStarted(string key, string stepId, int attempt, TaskCompletionSource<StepDecision> reply) =>
        Persist(new StepStarted(key, stepId, attempt, Now), e =>
        {
            _journal.Apply(e);
            reply.TrySetResult(new ExecuteStep(key, attempt));
        });

    private bool IsCurrent(int runId, TaskCompletionSource reply) => IsCurrent(runId, (Action<Exception>)(e => reply.TrySetException(e)));

    private bool IsCurrent<T>(int runId, TaskCompletionSource<T> reply) => IsCurrent(runId, (Action<Exception>)(e => reply.TrySetException(e)));

    private bool IsCurrent(int runId, Action<Exception> fail)
    {
        if (_run?.Id == runId)
            return true;
        fail(new InvalidOperationException(
            $"Run {runId} of workflow '{_workflowId}' has ended: a step was called after the workflow method returned. Await every step."));
        return false;
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Workflow [{0}] could not write {1} (journal sequence {2}); the actor stops and its supervisor restarts it",
            _workflowId, @event.GetType().Name, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void PostStop()
    {
        if (_run is { } run)
        {
            _run = null;
            run.Cancellation.Cancel();
            var failed = new WorkflowFailed(_workflowId,
                $"the actor of workflow '{_workflowId}' stopped during the run (journal failure or shutdown); resume it to go on");
            foreach (var waiter in run.Waiters)
                waiter.Tell(failed);
            run.Cancellation.Dispose();
        }
        base.PostStop();
    }

    private static string Format(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.#}s" : $"{t.TotalMilliseconds:0}ms";

    private sealed class ActiveRun(int id)
    {
        private readonly Dictionary<string, int> _sequences = new(StringComparer.Ordinal);

        public int Id { get; } = id;
        public List<IActorRef> Waiters { get; } = [];
        public CancellationTokenSource Cancellation { get; } = new();
        public WorkflowNondeterminismException? Violation { get; set; }

        /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers in <paramref name="scope"/>; returns the first.</summary>
        public int Reserve(string scope, int count)
        {
            var first = _sequences.GetValueOrDefault(scope) + 1;
            _sequences[scope] = first + count - 1;
            return first;
        }
    }
}

/// <summary>Carries the step's name into a run failure whose exception came out of a step body.</summary>
internal sealed class StepBodyFailedException(string message, Exception inner) : Exception(message, inner);
