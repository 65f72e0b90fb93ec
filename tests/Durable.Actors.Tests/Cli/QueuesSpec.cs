using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// Queues through the CLI: <c>enqueue</c> records workflows ENQUEUED, <c>serve</c> admits them as the queue of
/// <c>--config</c> allows; a host killed (SIGKILL) mid-run keeps the per-key limit once one serves again; bad input
/// changes nothing. <c>DURABLE_ACTORS_TEST_QUEUE_SCALE=keys,perKey,concurrency</c> (e.g. <c>100,20,50</c>: 2,000
/// workflows) runs the kill test at another size than CI's 3 keys of 5 with concurrency 2.
/// </summary>
public sealed class QueuesSpec
{
    private static readonly (int Keys, int PerKey, int Concurrency) Scale =
        Environment.GetEnvironmentVariable("DURABLE_ACTORS_TEST_QUEUE_SCALE")?.Split(',').Select(int.Parse).ToArray() is [var keys, var perKey, var concurrency]
            ? (keys, perKey, concurrency)
            : (3, 5, 2);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90 * Math.Max(1, Scale.Keys * Scale.PerKey / 15 / 20));

    private static readonly string Config = $$"""
        durable-actors.queues.onboard { concurrency = {{Scale.Concurrency}}, key-concurrency = 1 }
        durable-actors.queue-dispatch.refresh-interval = 1s
        """;

    private static string WriteConfig(TempFolder folder)
    {
        var path = Path.Combine(folder.Path, "queues.conf");
        File.WriteAllText(path, Config);
        return path;
    }

    private static string[] Keys => Enumerable.Range(0, Scale.Keys).Select(k => ((char)('a' + k % 26)).ToString() + (k / 26 == 0 ? "" : (k / 26).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();

    private static string KeyOf(string workflowId) => workflowId.Split('-')[0];

    /// <summary>The ids whose onboarding sent its welcome email (their last step), in the order of the effects log.</summary>
    private static string[] Welcomed(string folder) =>
        TestSupport.Cli.Effects(folder).Where(l => l.EndsWith(" send-welcome-email", StringComparison.Ordinal)).Select(l => l.Split(' ')[0]).ToArray();

    [Fact]
    public async Task EnqueuedWorkflows_RunOnePerKeyAtATime_AcrossAHostKilledMidRun()
    {
        using var folder = new TempFolder();
        var config = WriteConfig(folder);
        var total = Scale.Keys * Scale.PerKey;
        foreach (var key in Keys)
        {
            var ids = Enumerable.Range(1, Scale.PerKey).Select(i => $"{key}-{i}").ToArray();
            var enqueued = await TestSupport.Cli.RunAsync(folder.Path, ["enqueue", .. ids, "--queue", "onboard", "--key", key, "--config", config]);
            Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
            Assert.Equal(ids.Select(id => $"enqueued {id} on queue onboard"), enqueued.StdoutLines);
        }
        var listed = await TestSupport.Cli.RunAsync(folder.Path, "list", "--status", "enqueued", "--json", "--limit", "1000");
        using (var json = JsonDocument.Parse(string.Join('\n', listed.StdoutLines)))
            Assert.Equal(Math.Min(total, 1000), json.RootElement.GetArrayLength());
        var shown = await TestSupport.Cli.RunAsync(folder.Path, "queue", "show", "onboard", "--config", config);
        Assert.Equal([$"queue onboard: concurrency {Scale.Concurrency}, key concurrency 1", $"{total} enqueued, 0 running"], shown.StdoutLines.Take(2));
        Assert.Empty(TestSupport.Cli.Effects(folder.Path));

        // Killed once a fifth of the workflows have ended: others run (a slot each), cut short mid-workflow.
        using (var first = TestSupport.Cli.Start(folder.Path, "serve", "--config", config, "--stale-timeout", "1s"))
        {
            _ = first.StandardError.ReadToEndAsync();
            _ = first.StandardOutput.ReadToEndAsync();
            await Polling.UntilAsync(() => Welcomed(folder.Path).Length >= total / 5, "a fifth of the workflows ended under the first host", Timeout);
            first.Kill();
            await first.WaitForExitAsync();
        }
        using (var second = TestSupport.Cli.Start(folder.Path, "serve", "--config", config, "--stale-timeout", "1s"))
        {
            _ = second.StandardError.ReadToEndAsync();
            _ = second.StandardOutput.ReadToEndAsync();
            await Polling.UntilAsync(() => Welcomed(folder.Path).Distinct().Count() == total, "every workflow ended under the second host", Timeout);
            // The queue saw every end (written a moment after each workflow's own).
            await Polling.UntilAsync(async () =>
            {
                var row = (await TestSupport.Cli.RunAsync(folder.Path, "queue", "list", "--config", config)).StdoutLines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return (row[0], row[^2], row[^1]) == ("onboard", "0", "0");
            }, "an empty queue", Timeout);
            second.Kill();
            await second.WaitForExitAsync();
        }

        // Per key, the workflows' effects never interleave: one ran its steps, then the next (a step the kill cut short
        // may run again, within its own workflow's block).
        var effects = TestSupport.Cli.Effects(folder.Path).Select(l => l.Split(' ')[0]).ToList();
        foreach (var key in Keys)
        {
            var order = effects.Where(id => KeyOf(id) == key).ToList();
            var blocks = order.Where((id, i) => i == 0 || order[i - 1] != id).ToList();
            Assert.True(blocks.Count == Scale.PerKey, $"key {key}: {string.Join(" ", order)}");
            Assert.Equal(Enumerable.Range(1, Scale.PerKey).Select(i => $"{key}-{i}"), blocks);
        }
    }

    [Fact]
    public async Task BadInput_ExitsTwoWithOneLine_AndEnqueuesNothing()
    {
        using var folder = new TempFolder();
        var config = WriteConfig(folder);
        var bad = Path.Combine(folder.Path, "bad.conf");
        File.WriteAllText(bad, "durable-actors.queues.onboard { concurrency = -2 }");

        foreach (var (args, expected) in new (string[] Args, string Error)[]
        {
            (["enqueue", "x", "--queue", "nope", "--config", config], "error: Unknown queue 'nope' (declared: onboard)"),
            (["enqueue", "x", "--queue", "onboard", "--priority", "-1", "--config", config], "error: Queue 'onboard': a priority is 0 or more, not -1"),
            (["enqueue", "x", "--queue", "onboard", "--config", bad], $"error: --config '{bad}': durable-actors.queues.onboard: Queue 'onboard': concurrency must be at least 1, not -2"),
            (["queue", "show", "nope", "--config", config], $"error: unknown queue 'nope': not declared in --config '{config}' and no workflow of database '{Path.Combine(folder.Path, "durable.db")}' is on it"),
        })
        {
            var run = await TestSupport.Cli.RunAsync(folder.Path, args);
            Assert.True(run.ExitCode == 2, run.ToString());
            Assert.StartsWith(expected, Assert.Single(run.StderrLines));
        }
        Assert.False(File.Exists(Path.Combine(folder.Path, "durable.db")));
        var list = await TestSupport.Cli.RunAsync(folder.Path, "queue", "list", "--config", config);
        var row = list.StdoutLines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(("onboard", "0", "0"), (row[0], row[^2], row[^1]));
    }
}
