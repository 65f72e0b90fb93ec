using System.Diagnostics;
using System.Text;

namespace Durable.Actors.Packaging.Tests;

/// <summary>Runs <c>dotnet</c> (or a tool) as a child process, the way a user types it.</summary>
public static class Dotnet
{
    /// <summary>Longer than any step here takes on a loaded machine; a hang fails the test with the output so far.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    public static Task<ProcessResult> RunAsync(string folder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> arguments) =>
        RunProgramAsync("dotnet", folder, environment, arguments);

    public static async Task<ProcessResult> RunProgramAsync(string program, string folder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> arguments)
    {
        using var process = Process.Start(StartInfo(program, folder, environment, arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new ProcessResult(Describe(program, arguments), -1, await stdout + $"\n(killed after {Timeout})", await stderr);
        }
        return new ProcessResult(Describe(program, arguments), process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts <paramref name="program"/>, waits until a line of its output satisfies <paramref name="until"/>, then kills
    /// it with SIGKILL (its whole process tree), as a crash would.
    /// </summary>
    public static async Task<ProcessResult> RunUntilThenKillAsync(
        string program, string folder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> arguments, Func<string, Task<bool>> until)
    {
        using var process = new Process { StartInfo = StartInfo(program, folder, environment, arguments) };
        var output = new StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            _ = until(e.Data).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result)
                    seen.TrySetResult();
            }, TaskScheduler.Default);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (output)
                    output.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(seen.Task, exited, Task.Delay(Timeout));
        var killed = first == seen.Task;
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        lock (output)
            return new ProcessResult(Describe(program, arguments), killed ? 137 : process.ExitCode, output.ToString(), "");
    }

    private static ProcessStartInfo StartInfo(string program, string folder, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // What the test host's own dotnet set for itself must not steer the user's commands.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No build server outlives a command (nothing of the test is left running).
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        return start;
    }

    private static string Describe(string program, IReadOnlyList<string> arguments) => $"{Path.GetFileName(program)} {string.Join(' ', arguments)}";
}

/// <summary>What a command printed and how it exited.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void AssertExit(int expected, string what)
    {
        if (ExitCode != expected)
            throw new Xunit.Sdk.XunitException($"{what}: `{Command}` exited {ExitCode}, expected {expected}\n{this}");
    }

    public override string ToString() => $"$ {Command} (exit {ExitCode})\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
