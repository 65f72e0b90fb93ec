using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>Real processes killed mid-flight, and two processes on one database.</summary>
public sealed class CrashSpec
{
    private static readonly string[] Sections = Enumerable.Range(1, 10).Select(i => $"section-{i}").ToArray();

    public static TheoryData<int> EverySection => new(Enumerable.Range(1, 10));

    [Theory]
    [MemberData(nameof(EverySection))]
    public async Task CrashAfter_StepNOfALongerWorkflow_ResumeRunsEveryStepExactlyOnce(int n)
    {
        using var folder = new TempFolder();

        var crashed = await TestSupport.Cli.RunAsync(folder.Path, "crash-after", "long", n.ToString(CultureInfo.InvariantCulture), "--type", "report");
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "long", "--stale-timeout", "0s");

        Assert.True(crashed.ExitCode is not (0 or 1 or 2), crashed.ToString());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("workflow long completed: 385", resumed.StdoutLines[^1]);
        Assert.Equal(Sections.Select(s => $"long {s}"), TestSupport.Cli.Effects(folder.Path));
        Assert.Equal(
            Sections.Take(n - 1).Select((s, i) => $"long:{i + 1} {s} replayed").Concat(Sections.Skip(n - 1).Select((s, i) => $"long:{n + i} {s} executed")),
            resumed.StdoutLines[..^1]);
    }

    [Fact]
    public async Task Resume_InTwoProcessesAtOnce_RunsEachStepBodyInAtMostOneOfThemAndKeepsTheJournalConsistent()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "crash-after", "shared", "2", "--type", "report");

        // A stale timeout longer than any step of this workflow: a step running in one process is never taken over
        // by the other, which must then lose the race on the journal's sequence numbers or wait.
        var first = TestSupport.Cli.RunAsync(folder.Path, "resume", "shared", "--stale-timeout", "1s");
        var second = TestSupport.Cli.RunAsync(folder.Path, "resume", "shared", "--stale-timeout", "1s");
        var results = await Task.WhenAll(first, second);

        Assert.Contains(results, r => r.ExitCode == 0);
        Assert.All(results, r => Assert.True(
            r.ExitCode == 0 && r.StdoutLines[^1] == "workflow shared completed: 385"
            || r.ExitCode == 1 && r.StdoutLines[^1].StartsWith("workflow shared failed: workflow 'shared'", StringComparison.Ordinal),
            r.ToString()));
        Assert.Equal(Sections.Select(s => $"shared {s}"), TestSupport.Cli.Effects(folder.Path).Order(StringComparer.Ordinal).OrderBy(l => int.Parse(l.Split('-')[^1], CultureInfo.InvariantCulture)));
        var history = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "history", "shared", "--json")).Stdout).RootElement;
        Assert.Equal("COMPLETED", history.GetProperty("status").GetString());
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"shared:{i}"), history.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("key").GetString()));
    }

    [Fact]
    public async Task Kill_FiftyWorkflowsKilledTwentyTimesAtRandomMoments_RecoveryCompletesThemAndNoCompletedStepEverRanAgain()
    {
        using var folder = new TempFolder();
        var ids = Enumerable.Range(1, 50).Select(i => $"w{i:00}").ToArray();
        var random = new Random(20261125);
        // (workflow, step) → how many times its body had run when a kill found it COMPLETED.
        var completedAtKill = new Dictionary<string, int>();
        var kills = 0;
        // Kills that found some steps COMPLETED and some not: the moments that matter.
        var midFlightKills = 0;
        // Reads the journal without starting a host, so the CLI processes see no other host alive.
        var reader = Akka.Actor.ActorSystem.Create("reader", DurableWorkflows.CreateSetup(TestSupport.Engine.Config(folder.Database)));
        try
        {
            for (var round = 0; kills < 20 && round < 60; round++)
            {
                // A random moment: after a random number of output lines, any of them (replayed, executed, completed),
                // or right after the spawn. Once all workflows completed, rounds kill the replay. Each section takes
                // 500 ms, so a child has at least 5 s of work: this test host, busy on a loaded machine, reads its first
                // 150 lines long before the child could have finished (with 30 ms sections a CI run once read them only
                // after the first child had completed every step, and no kill found the workflows part way through).
                var killAfter = random.Next(0, 150);
                using var process = TestSupport.Cli.Start(folder.Path, ["start", .. ids, "--type", "report", "--input", """{"sections":10,"workMilliseconds":500}"""]);
                _ = process.StandardError.ReadToEndAsync();
                var lines = 0;
                while (lines < killAfter && await process.StandardOutput.ReadLineAsync() is not null)
                    lines++;
                if (lines < killAfter)
                {
                    await process.WaitForExitAsync();
                    continue;
                }
                process.Kill();
                await process.WaitForExitAsync();
                kills++;

                var effects = Counts(folder.Path);
                var completed = await CompletedStepsAsync(reader);
                if (completed.Count > 0 && completed.Count < ids.Length * Sections.Length)
                    midFlightKills++;
                foreach (var step in completed)
                    completedAtKill.TryAdd(step, effects.GetValueOrDefault(step));
            }
        }
        finally
        {
            await reader.Terminate();
        }

        var recovered = await TestSupport.Cli.RunAsync(folder.Path, "recover", "--stale-timeout", "0s");

        Assert.Equal(20, kills);
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        var finalEffects = Counts(folder.Path);
        Assert.All(completedAtKill, pair => Assert.Equal(pair.Value, finalEffects[pair.Key]));
        Assert.All(ids.SelectMany(id => Sections.Select(s => $"{id} {s}")), step => Assert.InRange(finalEffects.GetValueOrDefault(step), 1, 1 + kills));
        var list = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "list", "--json")).Stdout).RootElement;
        // list is newest first (by start time): the fifty were started at once, in no set order.
        Assert.Equal(ids.Order(), list.EnumerateArray().Select(w => w.GetProperty("workflowId").GetString()).Order());
        Assert.All(list.EnumerateArray(), w => Assert.Equal(("COMPLETED", 385), (w.GetProperty("status").GetString(), w.GetProperty("result").GetInt32())));
        Assert.True(midFlightKills > 0, "no kill found the workflows part way through");
    }

    private static Dictionary<string, int> Counts(string folder) =>
        TestSupport.Cli.Effects(folder).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Every (workflow, step) the journal holds as COMPLETED; reading it also proves the journal is readable.</summary>
    private static async Task<IReadOnlyList<string>> CompletedStepsAsync(Akka.Actor.ActorSystem reader) =>
        (await DurableWorkflows.ListAsync(reader))
            .SelectMany(w => w.Steps.Where(s => s.Status == StepStatus.Completed).Select(s => $"{w.WorkflowId} {s.StepId}"))
            .ToList();
}
