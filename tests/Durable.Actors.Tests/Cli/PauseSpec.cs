using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary><c>pause</c> and <c>unpause</c> through the CLI, each command its own process: the pause is durable, and a paused workflow runs nothing.</summary>
public sealed class PauseSpec
{
    private const string Approve = """{"approved": true, "by": "grace"}""";

    [Fact]
    public async Task Pause_ASignalSentWhilePausedIsKept_TheWorkflowRunsOnlyOnceUnpaused()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval");

        var paused = await TestSupport.Cli.RunAsync(folder.Path, "pause", "exp-1", "--reason", "audit");

        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Equal("workflow exp-1 paused: it begins no new step or wait until it is unpaused", paused.StdoutLines[^1]);
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-1", "--json")).Stdout).RootElement;
        Assert.Equal("PAUSED", status.GetProperty("status").GetString());
        Assert.Equal("paused: audit (unpause it to go on)", status.GetProperty("waitingFor").GetString());
        var listed = await TestSupport.Cli.RunAsync(folder.Path, "list", "--status", "paused");
        Assert.Contains(listed.StdoutLines, line => line.StartsWith("exp-1 ", StringComparison.Ordinal) && line.Contains("PAUSED"));

        // The signal is durable; the paused workflow does not take it, nor does a resume run it.
        var signalled = await TestSupport.Cli.RunAsync(folder.Path, "signal", "exp-1", "decision", "--payload", Approve);
        Assert.True(signalled.ExitCode == 3, signalled.ToString());
        Assert.Equal("exp-1 waiting: paused: audit (unpause it to go on)", signalled.StdoutLines[^1]);
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "exp-1");
        Assert.True(resumed.ExitCode == 3, resumed.ToString());
        Assert.Equal(["exp-1 submit-expense"], TestSupport.Cli.Effects(folder.Path));

        var unpaused = await TestSupport.Cli.RunAsync(folder.Path, "unpause", "exp-1");

        Assert.True(unpaused.ExitCode == 0, unpaused.ToString());
        Assert.Contains("workflow exp-1 unpaused", unpaused.StdoutLines);
        Assert.StartsWith("workflow exp-1 completed: \"paid 120.50 to Ada Lovelace, approved by grace\"", unpaused.StdoutLines[^1]);
        Assert.Equal(["exp-1 submit-expense", "exp-1 pay"], TestSupport.Cli.Effects(folder.Path));
    }

    [Fact]
    public async Task PauseAndUnpauseProcessesKilledRightAfterTheAcknowledgement_EachIsDurable()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-2", "--type", "approval");

        await RunUntilThenKillAsync(folder.Path, "workflow exp-2 paused", "pause", "exp-2");
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "exp-2");
        Assert.True(resumed.ExitCode == 3, resumed.ToString());
        Assert.Equal("exp-2 waiting: paused (unpause it to go on)", resumed.StdoutLines[^1]);

        await RunUntilThenKillAsync(folder.Path, "workflow exp-2 unpaused", "unpause", "exp-2");
        var signalled = await TestSupport.Cli.RunAsync(folder.Path, "signal", "exp-2", "decision", "--payload", Approve);

        Assert.True(signalled.ExitCode == 0, signalled.ToString());
        Assert.StartsWith("workflow exp-2 completed: \"paid", signalled.StdoutLines[^1]);
        Assert.Equal(["exp-2 submit-expense", "exp-2 pay"], TestSupport.Cli.Effects(folder.Path));
    }

    /// <summary>Runs the CLI with <paramref name="args"/> and kills it (SIGKILL) once it printed a line starting with <paramref name="line"/>.</summary>
    private static async Task RunUntilThenKillAsync(string folder, string line, params string[] args)
    {
        using var process = TestSupport.Cli.Start(folder, args);
        var stderr = process.StandardError.ReadToEndAsync();
        var seen = false;
        while (await process.StandardOutput.ReadLineAsync() is { } printed)
        {
            if (printed.StartsWith(line, StringComparison.Ordinal))
            {
                seen = true;
                break;
            }
        }
        process.Kill();
        await process.WaitForExitAsync();
        Assert.True(seen, $"'{line}' was not printed: {await stderr}");
    }

    [Theory]
    [InlineData("unknown workflow 'nobody'", "pause", "nobody")]
    [InlineData("unknown workflow 'nobody'", "unpause", "nobody")]
    [InlineData("error: workflow 'onb-1' is not running (COMPLETED); it was not paused", "pause", "onb-1")]
    [InlineData("error: workflow 'onb-1' is not running (COMPLETED); it was not unpaused", "unpause", "onb-1")]
    public async Task BadPauseOrUnpause_ExitsTwoWithOneLineAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "onb-1")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expected, Assert.Single(run.StderrLines));
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
    }
}
