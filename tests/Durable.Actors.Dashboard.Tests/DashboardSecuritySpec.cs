using System.Net;
using System.Text.RegularExpressions;
using Durable.Actors.Dashboard.Tests.TestSupport;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Xunit;
using CliProcess = Durable.Actors.Tests.TestSupport.Cli;

namespace Durable.Actors.Dashboard.Tests;

/// <summary>The dashboard's rules that need no browser: cross-site POSTs, the CLI's token rule, mapping without the engine.</summary>
public sealed partial class DashboardSecuritySpec : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Action_SentByAnotherSiteOrWithoutThePagesToken_IsRefusedAndChangesNothing()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-x", ExpenseRequest.Default);
        await host.WaitForAsync("expense-x", s => s.WaitingFor is not null);
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() });
        var page = await http.GetStringAsync(host.WorkflowUrl("expense-x"));
        var token = FormToken().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);
        var cancelUrl = host.Url + "/workflow/cancel";
        HttpRequestMessage Cancel(string? csrf) => new(HttpMethod.Post, cancelUrl)
        {
            Content = new FormUrlEncodedContent(csrf is null ? [new("id", "expense-x")] : [new("id", "expense-x"), new("csrf", csrf)]),
        };

        var noToken = await http.SendAsync(Cancel(null));
        var wrongToken = await http.SendAsync(Cancel(new string('0', token.Length)));
        var otherOrigin = Cancel(token);
        otherOrigin.Headers.Add("Origin", "http://evil.example");
        var fromOtherOrigin = await http.SendAsync(otherOrigin);
        var crossSite = Cancel(token);
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        var fromCrossSite = await http.SendAsync(crossSite);
        var get = await http.GetAsync(cancelUrl + "?id=expense-x");

        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        Assert.Contains("the form&#x27;s token is missing or stale", await noToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrongToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fromOtherOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fromCrossSite.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(WorkflowRunStatus.Running, (await DurableWorkflows.GetStatusAsync(host.System, "expense-x"))!.Status);

        // The same request from the page itself is accepted: the checks above refused the origin or the token, not the action.
        var sameOrigin = Cancel(token);
        sameOrigin.Headers.Add("Origin", host.BaseAddress);
        sameOrigin.Headers.Add("Sec-Fetch-Site", "same-origin");
        var accepted = await http.SendAsync(sameOrigin);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await host.WaitForAsync("expense-x", s => s.Status == WorkflowRunStatus.Cancelled);
    }

    [Fact]
    public async Task Action_WithThePagesTokenButNoSameOriginSignal_IsRefusedAndChangesNothing()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-s", ExpenseRequest.Default);
        await host.WaitForAsync("expense-s", s => s.WaitingFor is not null);
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() });
        var token = FormToken().Match(await http.GetStringAsync(host.WorkflowUrl("expense-s"))).Groups[1].Value;
        HttpRequestMessage Cancel() => new(HttpMethod.Post, host.Url + "/workflow/cancel")
        {
            Content = new FormUrlEncodedContent([new("id", "expense-s"), new("csrf", token)]),
        };

        // As a script sends it: the cookie and the form's token, but neither Origin nor Sec-Fetch-Site.
        var bare = await http.SendAsync(Cancel());
        var userInitiated = Cancel();
        userInitiated.Headers.Add("Sec-Fetch-Site", "none");
        var fromNowhere = await http.SendAsync(userInitiated);

        Assert.Equal(HttpStatusCode.Forbidden, bare.StatusCode);
        Assert.Contains("Origin", await bare.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, fromNowhere.StatusCode);
        Assert.Equal(WorkflowRunStatus.Running, (await DurableWorkflows.GetStatusAsync(host.System, "expense-s"))!.Status);

        // Origin alone (a browser that sends no Sec-Fetch-*) is enough.
        var withOrigin = Cancel();
        withOrigin.Headers.Add("Origin", host.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(withOrigin)).StatusCode);
        await host.WaitForAsync("expense-s", s => s.Status == WorkflowRunStatus.Cancelled);
    }

    [Fact]
    public async Task Action_FromAPageOfAnotherInstanceWithTheSameToken_IsAcceptedWithoutStickySessions()
    {
        using var otherFolder = new TempFolder();
        using var thirdFolder = new TempFolder();
        await using var first = await DashboardHost.StartAsync(_folder.Database, dashboard: o => o.AccessToken = "shared-secret-42");
        await using var second = await DashboardHost.StartAsync(otherFolder.Database, dashboard: o => o.AccessToken = "shared-secret-42");
        await using var otherToken = await DashboardHost.StartAsync(thirdFolder.Database, dashboard: o => o.AccessToken = "another-secret-42");
        foreach (var host in new[] { first, second, otherToken })
        {
            await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-i", ExpenseRequest.Default);
            await host.WaitForAsync("expense-i", s => s.WaitingFor is not null);
        }
        // Cookies are per host name, not port: like a browser behind a load balancer, both instances get them.
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() });
        http.DefaultRequestHeaders.Authorization = new("Bearer", "shared-secret-42");
        var token = FormToken().Match(await http.GetStringAsync(first.WorkflowUrl("expense-i"))).Groups[1].Value;
        Assert.NotEmpty(token);
        HttpRequestMessage Cancel(DashboardHost host, string bearer)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, host.Url + "/workflow/cancel")
            {
                Content = new FormUrlEncodedContent([new("id", "expense-i"), new("csrf", token)]),
            };
            request.Headers.Add("Origin", host.BaseAddress);
            request.Headers.Authorization = new("Bearer", bearer);
            return request;
        }

        var onTheSecond = await http.SendAsync(Cancel(second, "shared-secret-42"));
        var onAnotherTokens = await http.SendAsync(Cancel(otherToken, "another-secret-42"));

        Assert.Equal(HttpStatusCode.OK, onTheSecond.StatusCode);
        await second.WaitForAsync("expense-i", s => s.Status == WorkflowRunStatus.Cancelled);
        Assert.Equal(HttpStatusCode.Forbidden, onAnotherTokens.StatusCode);
        Assert.Equal(WorkflowRunStatus.Running, (await DurableWorkflows.GetStatusAsync(otherToken.System, "expense-i"))!.Status);
    }

    [Fact]
    public async Task TokenCookie_HoldsAValueDerivedFromTheTokenNotTheTokenItself()
    {
        const string secret = "cookie-secret-42";
        await using var host = await DashboardHost.StartAsync(_folder.Database, dashboard: o => o.AccessToken = secret);
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies });

        var opened = await http.GetAsync(host.Url + "?token=" + secret);

        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        Assert.Equal(host.Url, opened.RequestMessage!.RequestUri!.ToString());
        var cookie = Assert.Single(cookies.GetCookies(new Uri(host.Url)), c => c.Name == "durable-dashboard-token");
        Assert.DoesNotContain(secret, cookie.Value, StringComparison.Ordinal);
        Assert.True(cookie.HttpOnly);
        // The cookie opens the dashboard; a cookie holding the raw token does not.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(host.Url)).StatusCode);
        using var raw = new HttpClient(new HttpClientHandler { UseCookies = false });
        using var withRawToken = new HttpRequestMessage(HttpMethod.Get, host.Url);
        withRawToken.Headers.Add("Cookie", "durable-dashboard-token=" + secret);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.SendAsync(withRawToken)).StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080")]
    [InlineData("http://127.0.0.1:5080;http://192.168.1.10:5080")]
    [InlineData("http://*:5080")]
    [InlineData("http://[::]:5080")]
    public async Task CliDashboard_ListeningBeyondLoopbackWithoutAToken_FailsAtStartWithOneLine(string urls)
    {
        var result = await CliProcess.RunAsync(_folder.Path, "dashboard", "--db", _folder.Database, "--urls", urls);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: --urls '", line, StringComparison.Ordinal);
        Assert.Contains("give --token <secret>", line, StringComparison.Ordinal);
        Assert.False(File.Exists(_folder.Database), "nothing was created");
    }

    [Theory]
    [InlineData("127.0.0.1:5080", "is not an address such as")]
    [InlineData("ftp://127.0.0.1:21", "is not an address such as")]
    public async Task CliDashboard_MalformedUrls_FailsWithOneLine(string urls, string expected)
    {
        var result = await CliProcess.RunAsync(_folder.Path, "dashboard", "--db", _folder.Database, "--urls", urls);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public void Map_InAnAppWithoutTheEngine_ThrowsNamingTheMissingCall()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapDurableWorkflowsDashboard());

        Assert.Contains("WithDurableWorkflows", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("name=\"csrf\" value=\"([0-9A-F]+)\"")]
    private static partial Regex FormToken();

    public void Dispose() => _folder.Dispose();
}
