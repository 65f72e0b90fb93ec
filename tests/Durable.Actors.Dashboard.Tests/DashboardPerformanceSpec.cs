using System.Diagnostics;
using System.Globalization;
using Durable.Actors.Dashboard.Tests.TestSupport;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Durable.Actors.Dashboard.Tests;

/// <summary>
/// Records how long the dashboard's pages take on a database of 100,000 workflows (the server's own time, from its
/// Server-Timing header, and the round trip). It prints the figures and asserts only that the pages are right: the CI
/// machine is loaded, so time is never asserted.
/// </summary>
public sealed class DashboardPerformanceSpec(ITestOutputHelper output) : IDisposable
{
    private const int Workflows = 100_000;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Pages_OnADatabaseOf100000Workflows_AreMeasured()
    {
        await using (var seed = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("broken", async (ctx, _) =>
            await ctx.StepAsync<string>("call-api", () => throw new InvalidOperationException("the API said no"), RetryPolicy.None))))
        {
            await seed.Client.StartAsync<NewHire, OnboardingResult>(OnboardingWorkflow.TypeName, "seed-ok", NewHire.Default);
            await seed.WaitForAsync("seed-ok", s => s.Status == WorkflowRunStatus.Completed);
            await seed.Client.StartAsync<string, string>("broken", "seed-failed", "x");
            await seed.WaitForAsync("seed-failed", s => s.Status == WorkflowRunStatus.Failed);
        }
        var copy = Stopwatch.StartNew();
        CopyWorkflows();
        output.WriteLine($"copied the two workflows' journal rows into {Workflows:N0} workflows in {copy.Elapsed.TotalSeconds:0.0} s");

        var start = Stopwatch.StartNew();
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("broken", (_, _) => Task.FromResult("")));
        output.WriteLine($"host started, the workflow index rebuilt from the journal, in {start.Elapsed.TotalSeconds:0.0} s");
        using var http = new HttpClient();
        var first = await http.GetStringAsync(host.Url);
        Assert.Contains($"<b data-count=\"all\">{Workflows + 2}</b>", first, StringComparison.Ordinal);
        var cursor = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(first, "after=([^\"&]+)").Groups[1].Value);
        Assert.NotEmpty(cursor);

        var pages = new (string Name, string Url, string Expect)[]
        {
            ("list, first page", host.Url, "bulk-"),
            ("list, next page (cursor)", host.Url + "?after=" + cursor, "bulk-"),
            ("list, status failed", host.Url + "?status=failed", "bulk-"),
            ("list, type broken", host.Url + "?type=broken", "bulk-"),
            ("list, id prefix matching 100", host.Url + "?prefix=bulk-0500", "bulk-050099"),
            ("list, id prefix matching all", host.Url + "?prefix=bulk-", "bulk-"),
            ("list, status + type + prefix", host.Url + "?status=completed&type=onboarding&prefix=bulk-07", "bulk-07"),
            ("workflow page", host.WorkflowUrl("bulk-050001"), "provision-laptop"),
            ("unknown workflow (404)", host.WorkflowUrl("bulk-x"), "Workflow not found"),
        };
        output.WriteLine($"{"page",-32} {"server median",14} {"server max",11} {"round trip median",18}");
        foreach (var (name, url, expect) in pages)
        {
            var server = new List<double>();
            var roundTrip = new List<double>();
            for (var i = 0; i < 12; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await http.GetAsync(url);
                var body = await response.Content.ReadAsStringAsync();
                watch.Stop();
                Assert.Contains(expect, body, StringComparison.Ordinal);
                if (i < 2)
                    continue; // warm-up: the first requests JIT the code
                roundTrip.Add(watch.Elapsed.TotalMilliseconds);
                server.Add(double.Parse(response.Headers.GetValues("Server-Timing").Single().Split("dur=")[1], CultureInfo.InvariantCulture));
            }
            server.Sort();
            roundTrip.Sort();
            output.WriteLine($"{name,-32} {server[server.Count / 2],11:0.0} ms {server[^1],8:0.0} ms {roundTrip[roundTrip.Count / 2],15:0.0} ms");
        }
    }

    /// <summary>
    /// Makes 100,000 workflows out of the two real ones by copying their journal rows under new ids (one in ten the
    /// failed one), then drops the workflow index so that the next host builds it from the journal, as for an old database.
    /// </summary>
    private void CopyWorkflows()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _folder.Database, Pooling = false }.ConnectionString);
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {Workflows})
            INSERT INTO journal (created, deleted, persistence_id, sequence_number, message, manifest, identifier, writer_uuid)
            SELECT j.created, j.deleted, 'workflow-bulk-' || printf('%06d', n.i), j.sequence_number, j.message, j.manifest, j.identifier, j.writer_uuid
            FROM n JOIN journal j ON j.persistence_id = CASE WHEN n.i % 10 = 0 THEN 'workflow-seed-failed' ELSE 'workflow-seed-ok' END
            ORDER BY n.i, j.sequence_number;
            DROP TABLE workflow_index;
            """;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    public void Dispose() => _folder.Dispose();
}
