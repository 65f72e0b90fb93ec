using System.Diagnostics;
using Npgsql;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// The PostgreSQL server of the cluster tests: the one <c>.ci/run</c> started (its connection string in
/// DURABLE_ACTORS_TEST_POSTGRES), or else a private one this test process starts with the same script and stops when it
/// exits. Each test gets a fresh database of its own.
/// </summary>
public static class PostgresServer
{
    public const string Variable = "DURABLE_ACTORS_TEST_POSTGRES";

    private static readonly Lazy<string> Server = new(StartOrFind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A connection string to a new, empty database.</summary>
    public static async Task<string> NewDatabaseAsync()
    {
        var server = Server.Value;
        var name = "test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>A server of its own, for a test that stops and starts it.</summary>
    public static PrivateServer StartPrivate()
    {
        var folder = Path.Combine(Path.GetTempPath(), "durable-actors-postgres", Guid.NewGuid().ToString("N"));
        var server = new PrivateServer(FindScript(), folder);
        server.Start();
        return server;
    }

    public sealed class PrivateServer(string script, string folder) : IDisposable
    {
        public string ConnectionString { get; private set; } = "";

        public void Start() =>
            ConnectionString = Run(script, "start", folder).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];

        public void Stop() => Run(script, "stop", folder);

        public void Dispose()
        {
            Stop();
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static string StartOrFind()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
            return given;
        var script = FindScript();
        var folder = Path.Combine(Path.GetTempPath(), "durable-actors-postgres", Guid.NewGuid().ToString("N"));
        var output = Run(script, "start", folder);
        // The test host may be killed rather than exit (ProcessExit would not run): a watchdog stops the server once
        // this process is gone, however it ends.
        var watchdog = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "bash", "-c", "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; \"$2\" stop \"$3\" >/dev/null 2>&1; rm -rf \"$3\"",
                     "watchdog", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), script, folder,
                 })
            watchdog.ArgumentList.Add(arg);
        Process.Start(watchdog)?.Dispose();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, ".ci", "postgres");
            if (File.Exists(script))
                return script;
        }
        throw new FileNotFoundException($".ci/postgres not found above {AppContext.BaseDirectory}");
    }

    private static string Run(string script, string command, string folder)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(folder);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($".ci/postgres {command} did not end within 5 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($".ci/postgres {command} failed (exit {process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}
