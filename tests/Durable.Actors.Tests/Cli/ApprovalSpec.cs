using System.Globalization;
using System.Text.Json;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>The approval sample through the CLI: a workflow that waits for a person, across separate processes.</summary>
public sealed class ApprovalSpec
{
    private const string Approve = """{"approved": true, "by": "grace"}""";

    [Fact]
    public async Task Start_WaitsForTheDecision_ExitsThreeAndASignalInAnotherProcessFinishesIt()
    {
        using var folder = new TempFolder();

        var started = await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-1", "--type", "approval");

        Assert.True(started.ExitCode == 3, started.ToString());
        Assert.StartsWith("exp-1 waiting: waiting for signal 'decision' until ", started.StdoutLines[^1]);
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-1", "--json")).Stdout).RootElement;
        Assert.Equal("RUNNING", status.GetProperty("status").GetString());
        Assert.StartsWith("waiting for signal 'decision'", status.GetProperty("waitingFor").GetString());

        // No host runs between the two commands: the signal is made durable by the signal command's own host.
        var signalled = await TestSupport.Cli.RunAsync(folder.Path, "signal", "exp-1", "decision", "--payload", Approve);

        Assert.True(signalled.ExitCode == 0, signalled.ToString());
        Assert.Contains("signal 'decision' delivered to workflow exp-1", signalled.StdoutLines);
        Assert.StartsWith("workflow exp-1 completed: \"paid 120.50 to Ada Lovelace, approved by grace\"", signalled.StdoutLines[^1]);
        Assert.Equal(["exp-1 submit-expense", "exp-1 pay"], TestSupport.Cli.Effects(folder.Path));
    }

    [Fact]
    public async Task Start_WithATimeout_TheWaitingWorkflowIsCancelledAsTimedOutWhenItPasses()
    {
        using var folder = new TempFolder();

        var started = await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-3", "--type", "approval", "--timeout", "2s");

        Assert.True(started.ExitCode == 4, started.ToString());
        Assert.StartsWith("workflow exp-3 cancelled: timed out: its deadline ", started.StdoutLines[^1]);
        Assert.Equal(["exp-3 submit-expense"], TestSupport.Cli.Effects(folder.Path));
        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-3");
        Assert.Contains("CANCELLED", status.Stdout);
    }

    [Fact]
    public async Task Cancel_WaitingWorkflow_EndsCancelledAndASecondCancelIsRefused()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-2", "--type", "approval");

        var cancelled = await TestSupport.Cli.RunAsync(folder.Path, "cancel", "exp-2", "--reason", "duplicate claim");

        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Equal("workflow exp-2 cancelled: duplicate claim", cancelled.StdoutLines[^1]);
        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-2");
        Assert.Contains("CANCELLED", status.Stdout);
        var again = await TestSupport.Cli.RunAsync(folder.Path, "cancel", "exp-2");
        Assert.True(again.ExitCode == 2, again.ToString());
        Assert.Equal("error: workflow 'exp-2' has already ended (CANCELLED); nothing was changed", Assert.Single(again.StderrLines));
        var late = await TestSupport.Cli.RunAsync(folder.Path, "signal", "exp-2", "decision", "--payload", Approve);
        Assert.True(late.ExitCode == 2, late.ToString());
        Assert.Equal("error: workflow 'exp-2' has ended (CANCELLED); signal 'decision' was not delivered", Assert.Single(late.StderrLines));
        Assert.Equal(["exp-2 submit-expense"], TestSupport.Cli.Effects(folder.Path));
    }

    [Theory]
    [InlineData("unknown workflow 'nobody'", "signal", "nobody", "decision")]
    [InlineData("--payload is not valid JSON", "signal", "exp-3", "decision", "--payload", "{\"approved\": ")]
    [InlineData("the signal name ' decision' is not valid", "signal", "exp-3", " decision")]
    [InlineData("unknown workflow 'nobody'", "cancel", "nobody")]
    public async Task BadSignalOrCancel_ExitsTwoWithOneLineAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-3", "--type", "approval");
        var before = TestSupport.Cli.Dump(folder.Database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expected, Assert.Single(run.StderrLines));
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
    }

    [Fact]
    public async Task HostKilledWhileTheWorkflowWaits_ResumeTimesTheWaitOutOnceAndRunsNoStepTwice()
    {
        using var folder = new TempFolder();
        // A 4.5 s timeout, shorter than passivate-after (5 s): the host keeps the waiting run in memory, and is killed there.
        using var process = TestSupport.Cli.Start(folder.Path, "start", "exp-9", "--type", "approval",
            "--input", """{"amount": 5, "submitter": "Zoë", "timeout": "00:00:04.5"}""");
        _ = process.StandardError.ReadToEndAsync();
        while (await process.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("exp-9:1 submit-expense executed", StringComparison.Ordinal))
        {
        }
        process.Kill();
        await process.WaitForExitAsync();
        // Killed while it waited: the wait had not timed out yet.
        Assert.Equal(["exp-9 submit-expense"], TestSupport.Cli.Effects(folder.Path));

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "exp-9");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("workflow exp-9 completed: \"escalated\"", resumed.StdoutLines[^1]);
        Assert.Equal(["exp-9 submit-expense", "exp-9 escalate"], TestSupport.Cli.Effects(folder.Path));
    }

    [Fact]
    public async Task Serve_WakesAWorkflowWhoseWaitComesDue_AndStopsOnSigterm()
    {
        using var folder = new TempFolder();
        var started = await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-7", "--type", "approval",
            "--input", """{"amount": 5, "submitter": "Zoë", "timeout": "00:00:08"}""");
        Assert.True(started.ExitCode == 3, started.ToString());

        using var serve = TestSupport.Cli.Start(folder.Path, "serve");
        var stderr = serve.StandardError.ReadToEndAsync();
        Assert.StartsWith("serving ", await serve.StandardOutput.ReadLineAsync());
        var rest = serve.StandardOutput.ReadToEndAsync();

        // The decision never comes: the host that serves times the wait out when it is due.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!TestSupport.Cli.Effects(folder.Path).Contains("exp-7 escalate") && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", serve.Id.ToString(CultureInfo.InvariantCulture)]))
            await term.WaitForExitAsync();
        await serve.WaitForExitAsync();

        Assert.True(serve.ExitCode == 0, $"exit {serve.ExitCode}\n{await rest}\n{await stderr}");
        Assert.Contains("stopping: steps still running are left to recovery", await rest);
        Assert.Equal(["exp-7 submit-expense", "exp-7 escalate"], TestSupport.Cli.Effects(folder.Path));
        Assert.Contains("COMPLETED", (await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-7")).Stdout);
    }

    [Fact]
    public async Task SignalProcessKilledRightAfterTheAcknowledgement_ResumeConsumesTheSignalOnce()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-10", "--type", "approval");

        // Killed (SIGKILL) as soon as it says the signal is durable: before or while its run consumes it.
        using (var signal = TestSupport.Cli.Start(folder.Path, "signal", "exp-10", "decision", "--payload", Approve))
        {
            _ = signal.StandardError.ReadToEndAsync();
            while (await signal.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("signal 'decision' delivered", StringComparison.Ordinal))
            {
            }
            signal.Kill();
            await signal.WaitForExitAsync();
        }
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "exp-10", "--stale-timeout", "0s");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.StartsWith("workflow exp-10 completed: \"paid", resumed.StdoutLines[^1]);
        Assert.Equal(["exp-10 submit-expense", "exp-10 pay"], TestSupport.Cli.Effects(folder.Path));
        // Consumed once: the workflow took the pay branch once and ended.
        var status = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-10", "--json")).Stdout).RootElement;
        Assert.Equal("COMPLETED", status.GetProperty("status").GetString());
    }

    [Fact]
    public async Task CancelProcessKilledRightAfterTheAcknowledgement_ResumeEndsTheWorkflowCancelled()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-11", "--type", "approval");

        using (var cancel = TestSupport.Cli.Start(folder.Path, "cancel", "exp-11", "--reason", "killed mid-way"))
        {
            _ = cancel.StandardError.ReadToEndAsync();
            while (await cancel.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("cancellation of workflow exp-11 requested", StringComparison.Ordinal))
            {
            }
            cancel.Kill();
            await cancel.WaitForExitAsync();
        }
        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "exp-11", "--stale-timeout", "0s");

        Assert.True(resumed.ExitCode == 4, resumed.ToString());
        Assert.Equal("workflow exp-11 cancelled: killed mid-way", resumed.StdoutLines[^1]);
        Assert.Contains("CANCELLED", (await TestSupport.Cli.RunAsync(folder.Path, "status", "exp-11")).Stdout);
        Assert.Equal(["exp-11 submit-expense"], TestSupport.Cli.Effects(folder.Path));
    }

    [Fact]
    public async Task SignalAndCancelFromOtherProcesses_WhileServeHostsTheWorkflows()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "exp-20", "exp-21", "--type", "approval");
        using var serve = TestSupport.Cli.Start(folder.Path, "serve");
        var stderr = serve.StandardError.ReadToEndAsync();
        Assert.StartsWith("serving ", await serve.StandardOutput.ReadLineAsync());
        var rest = serve.StandardOutput.ReadToEndAsync();

        var signalled = await TestSupport.Cli.RunAsync(folder.Path, "signal", "exp-20", "decision", "--payload", Approve);
        var cancelled = await TestSupport.Cli.RunAsync(folder.Path, "cancel", "exp-21");

        using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", serve.Id.ToString(CultureInfo.InvariantCulture)]))
            await term.WaitForExitAsync();
        await serve.WaitForExitAsync();
        Assert.True(serve.ExitCode == 0, $"exit {serve.ExitCode}\n{await rest}\n{await stderr}");
        Assert.True(signalled.ExitCode == 0, signalled.ToString());
        Assert.StartsWith("workflow exp-20 completed: \"paid", signalled.StdoutLines[^1]);
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Equal("workflow exp-21 cancelled", cancelled.StdoutLines[^1]);
        Assert.Equal(["exp-20 pay", "exp-20 submit-expense", "exp-21 submit-expense"], TestSupport.Cli.Effects(folder.Path).Order());
    }
}

/// <summary>Child workflows through the CLI: the report-batch sample, killed while a child runs.</summary>
public sealed class ReportBatchSpec
{
    [Fact]
    public async Task KilledWhileAChildRuns_ResumeReattachesAndStartsNoChildTwice()
    {
        using var folder = new TempFolder();
        const string input = """{"reports": 3, "report": {"sections": 5, "workMilliseconds": 30}}""";
        using (var run = TestSupport.Cli.Start(folder.Path, "start", "batch-1", "--type", "report-batch", "--input", input))
        {
            _ = run.StandardError.ReadToEndAsync();
            // The second child is part way through when the process is killed.
            while (await run.StandardOutput.ReadLineAsync() is { } line && !line.StartsWith("batch-1/2:2 section-2 executed", StringComparison.Ordinal))
            {
            }
            run.Kill();
            await run.WaitForExitAsync();
        }

        var resumed = await TestSupport.Cli.RunAsync(folder.Path, "resume", "batch-1", "--stale-timeout", "0s");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal("workflow batch-1 completed: 165", resumed.StdoutLines[^1]);
        var list = JsonDocument.Parse((await TestSupport.Cli.RunAsync(folder.Path, "list", "--type", "report", "--json")).Stdout).RootElement;
        Assert.Equal(["batch-1/1", "batch-1/2", "batch-1/3"], list.EnumerateArray().Select(w => w.GetProperty("workflowId").GetString()).Order());
        var effects = TestSupport.Cli.Effects(folder.Path).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        // The first child's sections and the second's first two ran once; only the section in flight may run twice.
        Assert.All(Enumerable.Range(1, 5), s => Assert.Equal(1, effects[$"batch-1/1 section-{s}"]));
        Assert.Equal((1, 1), (effects["batch-1/2 section-1"], effects["batch-1/2 section-2"]));
        Assert.All(Enumerable.Range(3, 3), s => Assert.InRange(effects[$"batch-1/2 section-{s}"], 1, 2));
    }
}
