using Akka.Actor;
using Durable.Actors.Runtime;
using Durable.Actors.Tests.Cluster;
using Durable.Actors.Tests.TestSupport;
using Npgsql;
using Xunit;

namespace Durable.Actors.Tests.Postgres;

/// <summary>
/// A node shut down while PostgreSQL does not answer its journal writer: the node's actors stop without a dispatcher
/// thread waiting for the writer, and Terminate ends once what was queued is committed.
/// </summary>
public sealed class ShutdownSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private string _postgres = "";

    public async Task InitializeAsync() => _postgres = await PostgresServer.NewDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Terminate_PostgresNotAnswering_NodeStopsAtOnceAndTerminateEndsWithTheQueuedWriteCommitted()
    {
        var inSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new WorkflowRegistry().Add<string, int>("gated", async (ctx, _) =>
        {
            var first = await ctx.StepAsync("first", () => 1);
            var second = await ctx.StepAsync("second", async ct =>
            {
                inSecond.TrySetResult();
                await gate.Task.WaitAsync(ct);
                return 2;
            });
            return first + second;
        });
        // No command timeout: a write waits for PostgreSQL as long as it does not answer (a peer gone silent).
        var node = await ClusterNodes.StartAloneAsync(_postgres + ";Command Timeout=0", registry);
        var terminating = Task.CompletedTask;
        await using var locker = new NpgsqlConnection(_postgres);
        await locker.OpenAsync();
        try
        {
            await DurableWorkflows.Client(node.System).StartAsync<string, int>("gated", "s-1", "x");
            await inSecond.Task.WaitAsync(Timeout);
            var before = await JournalRowsAsync(locker, "s-1");

            // PostgreSQL stops answering the writer: another session holds a lock that its inserts wait for.
            await using var hold = await locker.BeginTransactionAsync();
            await using (var lockJournal = new NpgsqlCommand("LOCK TABLE journal IN SHARE MODE", locker, hold))
                await lockJournal.ExecuteNonQueryAsync();
            gate.SetResult();
            await PollAsync(async () => await WaitingInsertsAsync() > 0);

            var lastPhase = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            CoordinatedShutdown.Get(node.System).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "test-probe", () =>
            {
                lastPhase.TrySetResult();
                return Task.FromResult(Akka.Done.Instance);
            });
            terminating = node.System.Terminate();
            await lastPhase.Task.WaitAsync(Timeout);

            // The actors stop, the journal too, while its write waits: before the fix its PostStop held a dispatcher
            // thread, and the system's termination, for the writer's 30 s bound.
            await node.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.False(terminating.IsCompleted, "Terminate ended before the queued write was committed.");

            await hold.RollbackAsync();
            await terminating.WaitAsync(Timeout);
            Assert.True(await JournalRowsAsync(locker, "s-1") > before);
        }
        finally
        {
            gate.TrySetResult();
            await locker.CloseAsync();
            await terminating.WaitAsync(Timeout);
            await node.System.Terminate().WaitAsync(Timeout);
        }
    }

    private static async Task<long> JournalRowsAsync(NpgsqlConnection connection, string workflowId)
    {
        await using var count = new NpgsqlCommand("SELECT count(*) FROM journal WHERE persistence_id = $1", connection);
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = WorkflowActor.PersistenceIdPrefix + workflowId });
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private async Task<long> WaitingInsertsAsync()
    {
        await using var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO journal%'",
            connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task PollAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(50);
        }
    }
}
