using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Durable.Actors.Dashboard;

/// <summary>
/// Who may see the dashboard (the access token, or loopback only) and which POSTs are the dashboard's own: a form
/// carries an HMAC of the session cookie (SameSite=Strict) under a key of this process, and a request another site
/// sent (Origin or Sec-Fetch-Site saying so) is refused even with it.
/// </summary>
internal sealed class DashboardSecurity(DurableDashboardOptions options)
{
    public const string TokenCookie = "durable-dashboard-token";
    public const string SessionCookie = "durable-dashboard-session";
    public const string FormField = "csrf";

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[]? _token = options.AccessToken is { Length: > 0 } token ? Encoding.UTF8.GetBytes(token) : null;

    /// <summary>Null when the request may go on; otherwise the status and the one line to show.</summary>
    public (int Status, string Message)? Authorize(HttpContext context)
    {
        if (_token is null)
        {
            if (options.AllowRemoteRequests || IsLoopback(context.Connection.RemoteIpAddress))
                return null;
            return (StatusCodes.Status403Forbidden, "This dashboard answers requests from this machine only: set an access token to open it to others.");
        }
        if (Matches(context.Request.Cookies[TokenCookie]) || Matches(context.Request.Query["token"].ToString()))
            return null;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(authorization["Bearer ".Length..]))
            return null;
        return (StatusCodes.Status401Unauthorized, "An access token is required: open the dashboard's address with ?token=<the token it was started with>.");
    }

    /// <summary>A request that carried the token in its query: remember it in a cookie, so that links and forms need not carry it.</summary>
    public bool TokenInQuery(HttpContext context, out string cleanUrl)
    {
        cleanUrl = "";
        if (_token is null || !context.Request.Query.ContainsKey("token") || !Matches(context.Request.Query["token"].ToString()))
            return false;
        context.Response.Cookies.Append(TokenCookie, options.AccessToken!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
        });
        var rest = context.Request.Query.Where(q => q.Key != "token").Select(q => $"{Html.Url(q.Key)}={Html.Url(q.Value.ToString())}");
        var query = string.Join('&', rest);
        cleanUrl = context.Request.PathBase + context.Request.Path + (query.Length > 0 ? "?" + query : "");
        return true;
    }

    /// <summary>The value a form of this page carries: the HMAC of the session cookie, which is set here when missing.</summary>
    public string FormToken(HttpContext context)
    {
        var session = context.Request.Cookies[SessionCookie];
        if (string.IsNullOrEmpty(session) || session.Length > 64)
        {
            session = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            context.Response.Cookies.Append(SessionCookie, session, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
        }
        return Sign(session);
    }

    /// <summary>Null when the POST comes from a page of this dashboard; otherwise why it was refused.</summary>
    public string? CheckPost(HttpContext context, IFormCollection form)
    {
        var site = context.Request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
            return $"Refused: a request sent by another site (Sec-Fetch-Site: {site}).";
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase))
            return $"Refused: a request sent by another site (Origin: {origin}).";
        var session = context.Request.Cookies[SessionCookie];
        var sent = form[FormField].ToString();
        if (string.IsNullOrEmpty(session) || sent.Length == 0
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(session)), Encoding.ASCII.GetBytes(sent)))
            return "Refused: the form's token is missing or stale; reload the page and try again.";
        return null;
    }

    private string Sign(string session) => Convert.ToHexString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(session)));

    private bool Matches(string? candidate) =>
        _token is not null && !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(_token, Encoding.UTF8.GetBytes(candidate));

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);
}
