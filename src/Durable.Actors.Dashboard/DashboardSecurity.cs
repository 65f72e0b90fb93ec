using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Durable.Actors.Dashboard;

/// <summary>
/// Who may see the dashboard (the access token, or this machine only) and which POSTs are the dashboard's own: a form
/// carries an HMAC of the session cookie (SameSite=Strict), a POST must say it comes from the dashboard's own origin,
/// and a request another site sent (Origin or Sec-Fetch-Site saying so) is refused even with the form's token.
/// </summary>
/// <remarks>
/// Behind a reverse proxy the request is what the app's forwarded-headers middleware made of it: a proxy the app
/// trusts has its <c>X-Forwarded-*</c> headers applied (the client's address, the scheme) and removed, so a
/// forwarding header still present means a proxy the app does not trust, and such a request is never this machine's.
/// With an access token, the form key and the token cookie's value are derived from the token, so that instances
/// sharing it accept each other's forms and cookies; without one the form key is made at start.
/// </remarks>
internal sealed class DashboardSecurity
{
    public const string TokenCookie = "durable-dashboard-token";
    public const string SessionCookie = "durable-dashboard-session";
    public const string FormField = "csrf";

    // What proxies add. ASP.NET Core's ForwardedHeadersMiddleware removes the X-Forwarded-* values it applied; it
    // never reads Forwarded (RFC 7239) nor X-Real-IP, so those mark a proxied request whatever the app trusts.
    private static readonly string[] ForwardingHeaders = ["X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "Forwarded", "X-Real-IP"];

    private readonly DurableDashboardOptions _options;
    private readonly byte[]? _token;
    private readonly byte[] _formKey;
    private readonly byte[]? _cookieValue;

    public DashboardSecurity(DurableDashboardOptions options)
    {
        _options = options;
        if (options.AccessToken is { Length: > 0 } token)
        {
            _token = Encoding.UTF8.GetBytes(token);
            _formKey = Derive(_token, "form key");
            _cookieValue = Encoding.ASCII.GetBytes(Convert.ToHexString(Derive(_token, "token cookie")));
        }
        else
        {
            _formKey = RandomNumberGenerator.GetBytes(32);
        }
    }

    /// <summary>Null when the request may go on; otherwise the status and the one line to show.</summary>
    public (int Status, string Message)? Authorize(HttpContext context)
    {
        if (_token is null)
        {
            if (_options.AllowRemoteRequests || (IsLoopback(context.Connection.RemoteIpAddress) && ForwardingHeader(context.Request) is null))
                return null;
            return (StatusCodes.Status403Forbidden, ForwardingHeader(context.Request) is { } header
                ? $"This dashboard answers requests from this machine only, and this one came through a proxy ({header}) that the app does not trust: set an access token to open it to others."
                : "This dashboard answers requests from this machine only: set an access token to open it to others.");
        }
        if (CookieMatches(context.Request.Cookies[TokenCookie]) || Matches(context.Request.Query["token"].ToString()))
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
        context.Response.Cookies.Append(TokenCookie, Encoding.ASCII.GetString(_cookieValue!), new CookieOptions
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
        var request = context.Request;
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
            return $"Refused: a request sent by another site (Sec-Fetch-Site: {site}).";
        var origin = request.Headers.Origin.ToString();
        var own = $"{request.Scheme}://{request.Host}";
        if (origin.Length > 0 && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
        {
            return string.Equals(origin, $"https://{request.Host}", StringComparison.OrdinalIgnoreCase) && !request.IsHttps
                ? $"Refused: the page is served over https (Origin: {origin}) but its request reached the dashboard as {request.Scheme}: the proxy that " +
                  "terminates TLS is not trusted to say so. Have the app apply X-Forwarded-Proto from it (UseForwardedHeaders, with the proxy in KnownProxies or KnownIPNetworks)."
                : $"Refused: a request sent by another site (Origin: {origin}).";
        }
        var session = request.Cookies[SessionCookie];
        var sent = form[FormField].ToString();
        if (string.IsNullOrEmpty(session) || sent.Length == 0
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(session)), Encoding.ASCII.GetBytes(sent)))
            return "Refused: the form's token is missing or stale; reload the page and try again.";
        // A browser says where a POST comes from; a request that says nothing is not taken for the page's own.
        if (origin.Length == 0 && site != "same-origin")
            return $"Refused: the request does not say it comes from this dashboard (no Origin, no Sec-Fetch-Site: same-origin); a script must send Origin: {own}.";
        return null;
    }

    private string Sign(string session) => Convert.ToHexString(HMACSHA256.HashData(_formKey, Encoding.UTF8.GetBytes(session)));

    private bool Matches(string? candidate) =>
        _token is not null && !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(_token, Encoding.UTF8.GetBytes(candidate));

    private bool CookieMatches(string? candidate) =>
        _cookieValue is not null && !string.IsNullOrEmpty(candidate) && CryptographicOperations.FixedTimeEquals(_cookieValue, Encoding.ASCII.GetBytes(candidate));

    // HKDF with a fixed salt: every instance given the same token derives the same keys, and none of them is the token.
    private static byte[] Derive(byte[] token, string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, token, 32, "Durable.Actors.Dashboard"u8.ToArray(), Encoding.ASCII.GetBytes(purpose));

    private static string? ForwardingHeader(HttpRequest request) => Array.Find(ForwardingHeaders, request.Headers.ContainsKey);

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
