using System.Net;
using System.Text.RegularExpressions;
using Durable.Actors.Dashboard.Tests.TestSupport;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Xunit;

namespace Durable.Actors.Dashboard.Tests;

/// <summary>
/// The dashboard behind a reverse proxy: the proxy is played by the test, which connects over loopback (as a proxy
/// on the same host does) and adds the headers nginx adds.
/// </summary>
public sealed partial class DashboardProxySpec : IDisposable
{
    private const string RemoteClient = "203.0.113.9";
    private const string PublicHost = "dashboard.example";

    private readonly TempFolder _folder = new();

    [Theory]
    [InlineData("X-Forwarded-For", RemoteClient)]
    [InlineData("Forwarded", "for=" + RemoteClient)]
    [InlineData("X-Real-IP", RemoteClient)]
    [InlineData("X-Forwarded-Proto", "https")]
    [InlineData("X-Forwarded-Host", PublicHost)]
    public async Task Request_FromLoopbackWithAForwardingHeader_InAnAppThatTrustsNoProxy_IsRefused(string header, string value)
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        using var http = new HttpClient();
        using var forwarded = new HttpRequestMessage(HttpMethod.Get, host.Url);
        forwarded.Headers.Add(header, value);

        var response = await http.SendAsync(forwarded);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("name=\"csrf\"", body, StringComparison.Ordinal);
        Assert.Contains("came through a proxy", body, StringComparison.Ordinal);
        // The same request without the header is this machine's own, and served.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(host.Url)).StatusCode);
    }

    [Fact]
    public async Task IssueRepro_ARemoteClientThroughASameHostProxy_GetsNoPageAndCannotCancel()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-p", ExpenseRequest.Default);
        await host.WaitForAsync("expense-p", s => s.WaitingFor is not null);
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() });
        // The form's token and session cookie as a local browser has them; the proxied script below reuses them.
        var token = FormToken().Match(await http.GetStringAsync(host.WorkflowUrl("expense-p"))).Groups[1].Value;
        Assert.NotEmpty(token);

        using var page = new HttpRequestMessage(HttpMethod.Get, host.WorkflowUrl("expense-p"));
        page.Headers.Add("X-Forwarded-For", RemoteClient);
        var pageResponse = await http.SendAsync(page);
        using var cancel = new HttpRequestMessage(HttpMethod.Post, host.Url + "/workflow/cancel")
        {
            Content = new FormUrlEncodedContent([new("id", "expense-p"), new("csrf", token)]),
        };
        cancel.Headers.Add("X-Forwarded-For", RemoteClient);
        var cancelResponse = await http.SendAsync(cancel);

        Assert.Equal(HttpStatusCode.Forbidden, pageResponse.StatusCode);
        Assert.DoesNotContain("name=\"csrf\"", await pageResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, cancelResponse.StatusCode);
        Assert.Equal(WorkflowRunStatus.Running, (await DurableWorkflows.GetStatusAsync(host.System, "expense-p"))!.Status);
    }

    [Fact]
    public async Task Request_ThroughAProxyTheAppTrusts_IsLocalOnlyWhenTheClientBehindItIs()
    {
        // UseForwardedHeaders trusts loopback proxies by default (KnownNetworks 127.0.0.0/8, KnownProxies ::1).
        await using var host = await DashboardHost.StartAsync(_folder.Database, forwardedHeaders: new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
        });
        using var http = new HttpClient();

        var browserOnTheProxysHost = await http.SendAsync(Forwarded(host.Url, "127.0.0.1"));
        var remote = await http.SendAsync(Forwarded(host.Url, RemoteClient));
        // A client that claims loopback in its own X-Forwarded-For: the proxy appends the address it saw.
        var spoofed = await http.SendAsync(Forwarded(host.Url, "127.0.0.1, " + RemoteClient));

        Assert.Equal(HttpStatusCode.OK, browserOnTheProxysHost.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, remote.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, spoofed.StatusCode);
    }

    [Fact]
    public async Task Request_ThroughAProxyTheAppDoesNotTrust_IsNotLocalWhateverItClaims()
    {
        // The app applies forwarded headers from 10.0.0.1 only: a loopback connection is not that proxy.
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor };
        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        options.KnownProxies.Add(IPAddress.Parse("10.0.0.1"));
        await using var host = await DashboardHost.StartAsync(_folder.Database, forwardedHeaders: options);
        using var http = new HttpClient();

        var response = await http.SendAsync(Forwarded(host.Url, "127.0.0.1"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Action_ThroughATlsTerminatingProxyTheAppTrusts_IsAcceptedWithTheHttpsOrigin()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, dashboard: o => o.AccessToken = "proxy-secret-42",
            forwardedHeaders: new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto });
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-t", ExpenseRequest.Default);
        await host.WaitForAsync("expense-t", s => s.WaitingFor is not null);
        // Cookies by hand: the dashboard marks them Secure (the browser speaks https to the proxy), which HttpClient
        // would keep from this http connection.
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });

        using var open = ThroughTlsProxy(HttpMethod.Get, host.BaseAddress + "/workflows?token=proxy-secret-42");
        var redirect = await http.SendAsync(open);
        var tokenCookie = Cookie(redirect, "durable-dashboard-token");
        using var get = ThroughTlsProxy(HttpMethod.Get, host.WorkflowUrl("expense-t"));
        get.Headers.Add("Cookie", tokenCookie.Pair);
        var page = await http.SendAsync(get);
        var session = Cookie(page, "durable-dashboard-session");
        var token = FormToken().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        using var cancel = ThroughTlsProxy(HttpMethod.Post, host.Url + "/workflow/cancel");
        cancel.Content = new FormUrlEncodedContent([new("id", "expense-t"), new("csrf", token)]);
        cancel.Headers.Add("Cookie", $"{tokenCookie.Pair}; {session.Pair}");
        cancel.Headers.Add("Origin", "https://" + PublicHost);
        cancel.Headers.Add("Sec-Fetch-Site", "same-origin");
        var accepted = await http.SendAsync(cancel);

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.True(tokenCookie.Secure, "the token cookie of a page served over https is Secure");
        Assert.True(session.Secure, "the session cookie of a page served over https is Secure");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        await host.WaitForAsync("expense-t", s => s.Status == WorkflowRunStatus.Cancelled);
    }

    [Fact]
    public async Task Action_ThroughATlsTerminatingProxyTheAppDoesNotTrust_IsRefusedNamingTheMissingConfiguration()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, dashboard: o => o.AccessToken = "proxy-secret-42");
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-u", ExpenseRequest.Default);
        await host.WaitForAsync("expense-u", s => s.WaitingFor is not null);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false });
        using var get = ThroughTlsProxy(HttpMethod.Get, host.WorkflowUrl("expense-u"));
        get.Headers.Authorization = new("Bearer", "proxy-secret-42");
        var page = await http.SendAsync(get);
        var session = Cookie(page, "durable-dashboard-session");
        var token = FormToken().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        using var cancel = ThroughTlsProxy(HttpMethod.Post, host.Url + "/workflow/cancel");
        cancel.Content = new FormUrlEncodedContent([new("id", "expense-u"), new("csrf", token)]);
        cancel.Headers.Authorization = new("Bearer", "proxy-secret-42");
        cancel.Headers.Add("Cookie", session.Pair);
        cancel.Headers.Add("Origin", "https://" + PublicHost);

        var refused = await http.SendAsync(cancel);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("X-Forwarded-Proto", body, StringComparison.Ordinal);
        Assert.Contains("UseForwardedHeaders", body, StringComparison.Ordinal);
        Assert.Equal(WorkflowRunStatus.Running, (await DurableWorkflows.GetStatusAsync(host.System, "expense-u"))!.Status);
    }

    private static HttpRequestMessage Forwarded(string url, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return request;
    }

    /// <summary>A request as nginx passes it on from a browser at <see cref="RemoteClient"/> that opened https://dashboard.example.</summary>
    private static HttpRequestMessage ThroughTlsProxy(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Host = PublicHost;
        request.Headers.Add("X-Forwarded-For", RemoteClient);
        request.Headers.Add("X-Forwarded-Proto", "https");
        return request;
    }

    private static (string Pair, bool Secure) Cookie(HttpResponseMessage response, string name)
    {
        var header = Assert.Single(response.Headers.GetValues("Set-Cookie"), h => h.StartsWith(name + "=", StringComparison.Ordinal));
        var parts = header.Split(';', StringSplitOptions.TrimEntries);
        return (parts[0], parts.Any(p => p.Equals("secure", StringComparison.OrdinalIgnoreCase)));
    }

    [GeneratedRegex("name=\"csrf\" value=\"([0-9A-F]+)\"")]
    private static partial Regex FormToken();

    public void Dispose() => _folder.Dispose();
}
