using System.Text.Json;
using Akka.Actor;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Durable.Actors.Tests.Golden;

/// <summary>
/// A database written by the engine (<c>Golden/workflows.db</c>): a completed workflow with parallel branches, a
/// failed one, one that failed and was resumed to completion, and one left with a step IN_PROGRESS by a stopped host.
/// Today's engine must read every status, step and result in it, replay it, and finish the unfinished one. A failure
/// here means existing databases may no longer read (src/Durable.Actors/Journal/README.md, "Stored format").
/// </summary>
public sealed class DatabaseGoldenSpec : IDisposable
{
    public sealed record Person(string Name);

    public sealed record Laptop(string Serial, decimal Price);

    public sealed record Summary(string EmployeeId, Laptop Laptop, string[] Accounts, int Notified, bool Welcomed);

    private const string Database = "workflows.db";

    // The generating engine ran on this clock, so the recorded times are known.
    private static readonly DateTimeOffset GeneratedAt = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);
    private static readonly string[] GrantedAccounts = ["email", "chat"];

    private readonly TempFolder _folder = new();
    private readonly EffectRecorder _counter = new();

    /// <summary>The workflows of the golden database; <paramref name="generating"/> says whether they are being recorded.</summary>
    private WorkflowRegistry Registry(bool generating, Func<bool> flakyFails)
    {
        var noRetry = RetryPolicy.None;
        return new WorkflowRegistry()
            .Add<Person, Summary>("onboarding", async (ctx, person) =>
            {
                var id = await ctx.StepAsync("create", () => Ran("create", $"emp-{person.Name}"));
                var (laptop, (accounts, notified)) = await ctx.ParallelAsync(
                    branch => branch.StepAsync("laptop", () => Ran("laptop", new Laptop("L-1", 1299.99m))),
                    async branch =>
                    {
                        var granted = await branch.StepAsync("grant", () => Ran("grant", GrantedAccounts));
                        return (granted, await branch.StepAsync("notify", () => Ran("notify", granted.Length)));
                    });
                var welcomed = await ctx.StepAsync("welcome", () => Ran("welcome", true));
                return new Summary(id, laptop, accounts, notified, welcomed);
            })
            .Add<int, int>("charge", async (ctx, amount) =>
            {
                await ctx.StepAsync("reserve", () => Ran("reserve", amount));
                return await ctx.StepAsync<int>("charge", () => throw new InvalidOperationException("card declined"), noRetry);
            })
            .Add<string, string>("flaky", async (ctx, input) =>
                await ctx.StepAsync("try", () => flakyFails() ? throw new TimeoutException("no answer") : Ran("try", $"{input} fine"), noRetry))
            .Add<string, string>("waiting", async (ctx, input) =>
            {
                var first = await ctx.StepAsync("first", () => Ran("first", input));
                var second = await ctx.StepAsync("second", async ct =>
                {
                    if (generating)
                        await Task.Delay(Timeout.Infinite, ct);   // the host stops while this step runs
                    return Ran("second", "two");
                });
                return $"{first} {second}";
            });
    }

    private T Ran<T>(string step, T value)
    {
        _counter.Record(step);
        return value;
    }

    [Fact]
    public async Task Engine_OnTheGoldenDatabase_ReadsEveryWorkflowAndFinishesTheUnfinishedOne()
    {
        var path = _folder.Database;
        File.Copy(GoldenFiles.Output(Database), path);
        var (system, coordinator) = TestSupport.Engine.Start(path, Registry(generating: false, flakyFails: () => false),
            extraHocon: "durable-actors.recover-on-start = off");
        try
        {
            var onboarding = await Status(coordinator, "onboarding-1");
            Assert.Equal((WorkflowRunStatus.Completed, "onboarding", GeneratedAt), (onboarding.Status, onboarding.WorkflowType, onboarding.StartedAt));
            Assert.Equal(
                """{"employeeId":"emp-Ada","laptop":{"serial":"L-1","price":1299.99},"accounts":["email","chat"],"notified":2,"welcomed":true}""",
                onboarding.ResultJson);
            AssertSteps(onboarding,
                ("onboarding-1:1", "create", StepStatus.Completed, 1, "\"emp-Ada\""),
                ("onboarding-1:2.1", "laptop", StepStatus.Completed, 1, """{"serial":"L-1","price":1299.99}"""),
                ("onboarding-1:3.1", "grant", StepStatus.Completed, 1, """["email","chat"]"""),
                ("onboarding-1:3.2", "notify", StepStatus.Completed, 1, "2"),
                ("onboarding-1:4", "welcome", StepStatus.Completed, 1, "true"));

            var charge = await Status(coordinator, "charge-1");
            Assert.Equal(WorkflowRunStatus.Failed, charge.Status);
            Assert.Contains("InvalidOperationException: card declined", charge.Error);
            AssertSteps(charge,
                ("charge-1:1", "reserve", StepStatus.Completed, 1, "42"),
                ("charge-1:2", "charge", StepStatus.Failed, 1, null));
            Assert.Equal("InvalidOperationException: card declined", Assert.Single(charge.Steps[1].Failures).Error);

            var flaky = await Status(coordinator, "flaky-1");
            Assert.Equal((WorkflowRunStatus.Completed, "\"flaky fine\""), (flaky.Status, flaky.ResultJson));
            AssertSteps(flaky, [("flaky-1:1", "try", StepStatus.Completed, 2, "\"flaky fine\"")]);
            Assert.Equal("TimeoutException: no answer", Assert.Single(flaky.Steps[0].Failures).Error);

            var waiting = await Status(coordinator, "waiting-1");
            Assert.Equal(WorkflowRunStatus.Running, waiting.Status);
            AssertSteps(waiting,
                ("waiting-1:1", "first", StepStatus.Completed, 1, "\"one\""),
                ("waiting-1:2", "second", StepStatus.InProgress, 1, null));

            // The read side (status, history, list) reads the same file.
            var listed = await DurableWorkflows.ListAsync(system);
            Assert.Equal(
                ["charge-1 Failed", "flaky-1 Completed", "onboarding-1 Completed", "waiting-1 Running"],
                listed.Select(w => $"{w.WorkflowId} {w.Status}").Order());

            Assert.Equal(["waiting-1"], await DurableWorkflows.GetPendingAsync(system));

            // A completed workflow answers its recorded result, read with today's types; the unfinished workflow replays
            // its completed step from its record and finishes.
            var replayed = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("onboarding-1"), TimeSpan.FromSeconds(30));
            Assert.Equal(onboarding.ResultJson, replayed.ResultJson);
            var summary = replayed.GetResult<Summary>()!;
            Assert.Equal(["email", "chat"], summary.Accounts);
            Assert.Equal(new Summary("emp-Ada", new Laptop("L-1", 1299.99m), summary.Accounts, 2, true), summary);
            var finished = await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("waiting-1"), TimeSpan.FromSeconds(30));
            Assert.Equal("one two", finished.GetResult<string>());
            Assert.Equal(new Dictionary<string, int> { ["second"] = 1 }, _counter.Counts);
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static async Task<WorkflowStatus> Status(IActorRef coordinator, string workflowId) =>
        await coordinator.Ask<WorkflowStatus>(new GetWorkflowStatus(workflowId), TimeSpan.FromSeconds(30));

    private static void AssertSteps(WorkflowStatus status, params (string Key, string StepId, StepStatus Status, int Attempts, string? ResultJson)[] expected) =>
        Assert.Equal(expected, status.Steps.Select(s => (s.Key, s.StepId, s.Status, s.Attempts, s.ResultJson)));

    [Fact]
    public async Task Regenerate_WhenAskedByTheEnvironment_WritesTheGoldenDatabase()
    {
        if (!GoldenFiles.Regenerate)
            return;
        var path = _folder.Database;
        var flakyFails = true;
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingObserver
        {
            OnReport = r =>
            {
                if (r is { StepId: "second", Kind: StepReportKind.Starting })
                    secondStarted.TrySetResult();
            },
        };
        var (system, coordinator) = TestSupport.Engine.Start(path, Registry(generating: true, () => Volatile.Read(ref flakyFails)), observer,
            clock: new VirtualClock(GeneratedAt));
        var timeout = TimeSpan.FromSeconds(30);
        try
        {
            await coordinator.Ask<WorkflowCompleted>(new StartWorkflow("onboarding-1", "onboarding", """{"name":"Ada"}"""), timeout);
            await coordinator.Ask<WorkflowFailed>(new StartWorkflow("charge-1", "charge", "42"), timeout);
            await coordinator.Ask<WorkflowFailed>(new StartWorkflow("flaky-1", "flaky", "\"flaky\""), timeout);
            Volatile.Write(ref flakyFails, false);
            await coordinator.Ask<WorkflowCompleted>(new ResumeWorkflow("flaky-1"), timeout);
            coordinator.Tell(new StartWorkflow("waiting-1", "waiting", "\"one\""), ActorRefs.NoSender);
            await secondStarted.Task.WaitAsync(timeout);
        }
        finally
        {
            await system.Terminate();
        }

        // One self-contained file: the WAL checkpointed into it, free pages dropped.
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);";
            command.ExecuteNonQuery();
        }
        File.Copy(path, GoldenFiles.Source(Database), overwrite: true);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}
