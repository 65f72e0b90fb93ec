using System.CommandLine;
using System.Net;
using System.Text.RegularExpressions;
using Akka.Actor;
using Durable.Actors.Cli.Hosting;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Durable.Actors.Cli.Verbs;

/// <summary><c>dashboard</c>: the engine on the database, as <c>serve</c> runs it, and the web dashboard over it.</summary>
internal static partial class DashboardVerb
{
    public const string Path = "/workflows";

    public static Command Create(CliOptions o)
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen, separated by ';'. Any address other than loopback (127.0.0.1, ::1, localhost) needs --token",
            DefaultValueFactory = _ => "http://127.0.0.1:5080",
        };
        var token = new Option<string?>("--token") { Description = "An access token the browser must present once (open the address with ?token=...)" };
        var command = new Command("dashboard", "Serve the web dashboard for the database, with the engine running on it (as serve does) so that its actions work")
        {
            o.Db, urls, token, o.Effects, o.StaleTimeout, o.BusyTimeout,
        };
        command.SetAction((r, ct) => RunAsync(r.GetValue(o.Db)!, r.GetValue(urls)!, r.GetValue(token), r.GetValue(o.Effects), r.GetValue(o.StaleTimeout), r.GetValue(o.BusyTimeout), ct));
        return command;
    }

    private static Task<int> RunAsync(
        string databasePath, string urls, string? token, string? effectsLog, string? staleTimeoutText, string? busyTimeoutText, CancellationToken cancellationToken) =>
        Guard.RunAsync(async () =>
        {
            var addresses = CheckUrls(urls, token);
            var target = SqliteTarget.Of(databasePath, DatabaseUse.Writes(workflowId: null));
            var database = target.Database;
            var staleTimeout = Durations.ParseOptional(staleTimeoutText, "--stale-timeout");
            var busyTimeout = Durations.ParseOptional(busyTimeoutText, "--busy-timeout");
            await using var host = CliHost.Create(database, staleTimeout, busyTimeout, serve: true);
            DurableWorkflows.Start(host.System, target.Registry(effectsLog));

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(string.Join(';', addresses));
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<ActorSystem>(host.System);
            await using var app = builder.Build();
            app.MapDurableWorkflowsDashboard(Path, options => options.AccessToken = token);
            app.MapGet("/", () => Microsoft.AspNetCore.Http.Results.Redirect(Path));
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw new UsageException($"cannot listen on {string.Join(';', addresses)}: {e.Message}");
            }

            using var stop = new StopSignals(cancellationToken);
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? (IEnumerable<string>)addresses;
            foreach (var address in bound)
                Console.WriteLine($"dashboard of {database}: {address.TrimEnd('/')}{Path}{(token is null ? "" : " (open it with ?token=<the token>)")}");
            Console.WriteLine("stop with Ctrl+C or SIGTERM");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            Console.WriteLine("stopping: steps still running are left to recovery");
            await app.StopAsync(CancellationToken.None);
            return ExitCodes.Completed;
        });

    /// <summary>The addresses to listen on; refuses a malformed one, and one that is not loopback unless a token is given.</summary>
    internal static IReadOnlyList<string> CheckUrls(string urls, string? token)
    {
        if (token is not null && token.Trim().Length < 8)
            throw new UsageException("--token must have at least 8 characters");
        var addresses = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (addresses.Length == 0)
            throw new UsageException("--urls is empty: give an address such as http://127.0.0.1:5080");
        foreach (var address in addresses)
        {
            var match = UrlPattern().Match(address);
            if (!match.Success)
                throw new UsageException($"--urls '{address}' is not an address such as http://127.0.0.1:5080");
            var host = match.Groups["host"].Value.Trim('[', ']');
            var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
            if (!loopback && token is null)
                throw new UsageException($"--urls '{address}' listens beyond this machine: give --token <secret> so that only those who have it can open the dashboard");
        }
        return addresses;
    }

    [GeneratedRegex(@"^https?://(?<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+)(:\d{1,5})?/?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();
}
