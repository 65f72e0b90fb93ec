using Akka.Actor;
using Durable.Actors.Storage;
using Durable.Actors.Testing;
using Durable.Actors.Tests.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// A full disk, injected on the journal writer's connection (<c>PRAGMA max_page_count</c> at the file's size makes
/// SQLite answer SQLITE_FULL to any write that needs a new page): workflows fail naming the cause, not Akka's journal
/// circuit breaker, and once there is room again a resume completes them from what was recorded.
/// </summary>
public sealed class DiskFullSpec(ITestOutputHelper output) : EngineSpec(output, """
    durable-actors.supervision.min-backoff = 10ms
    durable-actors.supervision.max-backoff = 20ms
    """)
{
    private const int Workflows = 12;

    [Fact]
    public async Task JournalWrites_DiskFullWhileWorkflowsRun_EachFailsNamingTheCauseAndAResumeCompletesItWithNothingLost()
    {
        var path = Path.GetFullPath(Folder.Database);
        var full = false;
        Hooks.BeforeTransaction = connection =>
        {
            using var command = connection.CreateCommand();
            // While "full", every journal insert also needs a new page (the temp trigger's filler row), as every
            // commit does on a full disk, and the file may not grow: each write fails with SQLITE_FULL.
            command.CommandText = Volatile.Read(ref full)
                ? """
                  PRAGMA max_page_count = 1000000;
                  CREATE TABLE IF NOT EXISTS main.filler (b BLOB);
                  CREATE TEMP TRIGGER IF NOT EXISTS disk_full BEFORE INSERT ON main.journal
                  BEGIN INSERT INTO filler VALUES (zeroblob(65536)); END;
                  PRAGMA max_page_count = 1;
                  """
                : "PRAGMA max_page_count = 1000000; DROP TRIGGER IF EXISTS temp.disk_full;";
            command.ExecuteNonQuery();
        };
        try
        {
            var counter = new EffectRecorder();
            var waiting = new CountdownEvent(Workflows);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var coordinator = StartEngine(new WorkflowRegistry().Add<string, string>("fill", async (ctx, id) =>
            {
                var first = await ctx.StepAsync("first", () => { counter.Record($"{id}/first"); return $"small {id}"; });
                var big = await ctx.StepAsync("big", async ct =>
                {
                    counter.Record($"{id}/big");
                    if (!gate.Task.IsCompleted)
                        waiting.Signal();
                    await gate.Task.WaitAsync(ct);
                    return new string('x', 20_000);   // needs new pages: SQLITE_FULL while the disk is full
                });
                return $"{first} {big.Length}";
            }));

            // Every workflow's first step is durable (it rode with the big step's IN_PROGRESS record) before the disk fills.
            var probes = Enumerable.Range(1, Workflows).Select(_ => CreateTestProbe()).ToList();
            for (var i = 0; i < Workflows; i++)
                coordinator.Tell(new StartWorkflow($"full-{i}", "fill", $"\"full-{i}\""), probes[i]);
            Assert.True(waiting.Wait(RunTimeout));
            Volatile.Write(ref full, true);
            gate.SetResult();

            // More failed writes than Akka's journal circuit breaker tolerates (10): none may hide the cause.
            foreach (var probe in probes)
            {
                var failed = await probe.ExpectMsgAsync<WorkflowFailed>(RunTimeout);
                Assert.Contains($"database or disk is full: {path}", failed.Error);
                Assert.DoesNotContain("Circuit Breaker", failed.Error);
            }

            Volatile.Write(ref full, false);
            for (var i = 0; i < Workflows; i++)
            {
                coordinator.Tell(new ResumeWorkflow($"full-{i}"), TestActor);
                Assert.Equal($"small full-{i} 20000", (await ExpectMsgAsync<WorkflowCompleted>(RunTimeout)).GetResult<string>());
                Assert.Equal(1, counter.Count($"full-{i}/first"));
                coordinator.Tell(new GetWorkflowStatus($"full-{i}"), TestActor);
                var status = await ExpectMsgAsync<WorkflowStatus>(RunTimeout);
                Assert.Equal(WorkflowRunStatus.Completed, status.Status);
                Assert.Equal(["first", "big"], status.Steps.Select(s => s.StepId));
                Assert.All(status.Steps, s => Assert.Equal(StepStatus.Completed, s.Status));
                Assert.Equal(new string('x', 20_000), System.Text.Json.JsonSerializer.Deserialize<string>(status.Steps[1].ResultJson!));
            }
        }
        finally
        {
        }
    }
}
