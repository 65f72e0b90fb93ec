using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// Schedules through the CLI: created in the file, fired by <c>serve</c>; a host killed (SIGKILL) at a tick loses no
/// tick and starts none twice once one serves again; bad input changes nothing.
/// </summary>
public sealed class SchedulesSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The ticks whose onboarding created its employee (the workflow's first step ran), by instant.</summary>
    private static DateTimeOffset[] Ticks(string folder) =>
        TestSupport.Cli.Effects(folder).Where(l => l.StartsWith("tick@", StringComparison.Ordinal) && l.EndsWith(" create-employee", StringComparison.Ordinal))
            .Select(l => DateTimeOffset.Parse(l["tick@".Length..l.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture))
            .Distinct().Order().ToArray();

    private static Process Serve(string folder)
    {
        var serve = TestSupport.Cli.Start(folder, "serve", "--stale-timeout", "1s");
        _ = serve.StandardError.ReadToEndAsync();
        _ = serve.StandardOutput.ReadToEndAsync();
        return serve;
    }

    [Fact]
    public async Task AHostKilledAtATick_LosesNoTickAndStartsNoneTwice()
    {
        using var folder = new TempFolder();
        var created = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "create", "tick", "--every", "2s", "--overlap", "allow-all", "--catch-up", "1m");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.StartsWith("created schedule tick: every 00:00:02, starts onboarding; next tick ", created.StdoutLines[^1]);

        // Killed as soon as the second tick's workflow began its first step: at the tick, mid-workflow.
        using (var first = Serve(folder.Path))
        {
            await Polling.UntilAsync(() => Ticks(folder.Path).Length >= 2, "two ticks fired by the first host", Timeout);
            first.Kill();
            await first.WaitForExitAsync();
        }
        var beforeRestart = Ticks(folder.Path)[^1];
        var cutShort = "tick@" + beforeRestart.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        using (var second = Serve(folder.Path))
        {
            await Polling.UntilAsync(() => Ticks(folder.Path).Count(t => t > beforeRestart) >= 3, "three ticks fired by the second host", Timeout);
            // The ticks the gap missed fire at once when the host starts; the workflow the kill cut short is carried on
            // beside them (its step turns stale first): stopped before it ends, it would be left running.
            await Polling.UntilAsync(() => TestSupport.Cli.Effects(folder.Path).Contains(cutShort + " send-welcome-email"), $"{cutShort}'s last step", Timeout);
            await Polling.UntilAsync(async () => (await TestSupport.Cli.RunAsync(folder.Path, "status", cutShort)).Stdout.Contains("(onboarding) COMPLETED,", StringComparison.Ordinal),
                $"{cutShort}, cut short by the kill, completed by the second host", Timeout);
            using var term = Process.Start("kill", ["-TERM", second.Id.ToString(CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            await second.WaitForExitAsync();
        }

        // One workflow per tick, every two seconds from the first to the last: the ticks of the gap were caught up.
        var list = await TestSupport.Cli.RunAsync(folder.Path, "list", "--json", "--prefix", "tick@", "--limit", "1000");
        using var json = JsonDocument.Parse(string.Join('\n', list.StdoutLines));
        var ids = json.RootElement.EnumerateArray().Select(w => w.GetProperty("workflowId").GetString()!).Order(StringComparer.Ordinal).ToArray();
        var instants = ids.Select(id => DateTimeOffset.Parse(id["tick@".Length..], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(instants.Length >= 5, string.Join(", ", ids));
        Assert.All(instants.Zip(instants.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(2), pair.Item2 - pair.Item1));
        // Every tick whose workflow began ran its first step once, but for those the kill cut short (IN_PROGRESS then:
        // marked stale, run again as a second attempt; on a loaded machine two ticks' first steps may be in flight).
        var twice = TestSupport.Cli.Effects(folder.Path).Where(l => l.EndsWith(" create-employee", StringComparison.Ordinal))
            .GroupBy(l => l).Where(g => g.Count() > 1).Select(g => (Id: g.Key.Split(' ')[0], Runs: g.Count())).ToList();
        foreach (var (id, runs) in twice)
        {
            var history = await TestSupport.Cli.RunAsync(folder.Path, "history", id);
            Assert.True(runs == 2, $"{id} create-employee ran {runs} times");
            Assert.Contains(history.StdoutLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\S+:1\s+create-employee\s+COMPLETED\s+2\s"));
        }
    }

    [Fact]
    public async Task PauseResumeTriggerAndDelete_ThroughTheCli()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "schedule", "create", "nightly", "--cron", "0 2 * * *", "--time-zone", "Europe/Paris")).ExitCode);

        var paused = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "pause", "nightly");
        var list = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "list");
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "resume", "nightly");
        var show = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "show", "nightly", "--json");
        var trigger = await TestSupport.Cli.RunAsync(folder.Path, "schedule", "trigger", "nightly");

        Assert.Equal("paused schedule nightly", paused.StdoutLines[^1]);
        Assert.Contains("paused  -          none (paused)", list.StdoutLines[1]);
        Assert.Equal("resumed schedule nightly", resumed.StdoutLines[^1]);
        using (var json = JsonDocument.Parse(string.Join('\n', show.StdoutLines)))
        {
            Assert.Equal(("Europe/Paris", false), (json.RootElement.GetProperty("timeZone").GetString(), json.RootElement.GetProperty("paused").GetBoolean()));
            // 02:00 in Paris is 01:00Z in winter.
            Assert.Equal(1, json.RootElement.GetProperty("nextTickAt").GetDateTimeOffset().UtcDateTime.Hour);
        }
        Assert.True(trigger.ExitCode == 0, trigger.ToString());
        Assert.Matches(@"^workflow nightly@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ completed: ", trigger.StdoutLines[^1]);

        Assert.Equal("deleted schedule nightly", (await TestSupport.Cli.RunAsync(folder.Path, "schedule", "delete", "nightly")).StdoutLines[^1]);
        Assert.Equal("no schedules", (await TestSupport.Cli.RunAsync(folder.Path, "schedule", "list")).StdoutLines[^1]);
    }

    [Theory]
    [InlineData("error: Schedule 'x': '61 * * * *' is not a cron expression", "schedule", "create", "x", "--cron", "61 * * * *")]
    [InlineData("error: Schedule 'x': 'Mars/Olympus' is not a time zone", "schedule", "create", "x", "--cron", "0 * * * *", "--time-zone", "Mars/Olympus")]
    [InlineData("error: --catch-up '-1m' is not a duration", "schedule", "create", "x", "--every", "5m", "--catch-up", "-1m")]
    [InlineData("error: --overlap 'sometimes' is not one of skip, buffer-one, allow-all, cancel-other", "schedule", "create", "x", "--every", "5m", "--overlap", "sometimes")]
    [InlineData("error: schedule 'nightly' exists in database ", "schedule", "create", "nightly", "--every", "5m")]
    [InlineData("error: unknown schedule 'other' in database ", "schedule", "pause", "other")]
    [InlineData("error: --to 2026-01-01 is not after --from 2026-02-01", "schedule", "backfill", "nightly", "--from", "2026-02-01", "--to", "2026-01-01")]
    public async Task BadInput_ExitsTwoWithOneLineAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "schedule", "create", "nightly", "--cron", "0 2 * * *")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith(expected, Assert.Single(run.StderrLines));
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
    }
}
