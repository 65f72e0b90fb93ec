namespace Durable.Actors.Dashboard;

/// <summary>Options of the workflow dashboard (<see cref="DashboardEndpointRouteBuilderExtensions.MapDurableWorkflowsDashboard"/>).</summary>
public sealed class DurableDashboardOptions
{
    /// <summary>
    /// A secret every request must carry (once as <c>?token=…</c>, which sets a cookie, or as <c>Authorization: Bearer …</c>);
    /// null for none. Without one, only requests from this machine (loopback) are answered, unless <see cref="AllowRemoteRequests"/>;
    /// a request still carrying a forwarding header (<c>X-Forwarded-For</c>, <c>Forwarded</c>, <c>X-Real-IP</c>…) came
    /// through a proxy the app does not trust and is not this machine's.
    /// </summary>
    /// <remarks>
    /// The cookie holds a value derived from the token, not the token. The key that signs the forms is derived from it
    /// too, so instances given the same token accept each other's forms; without a token that key is made at start.
    /// </remarks>
    public string? AccessToken { get; set; }

    /// <summary>
    /// Answer requests from other machines without an access token: only for an app that protects the dashboard itself
    /// (e.g. <c>.RequireAuthorization(...)</c> on the returned builder). Off by default.
    /// </summary>
    public bool AllowRemoteRequests { get; set; }

    /// <summary>Hide the actions (resume, cancel, signal) and refuse their requests. Off by default.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>Workflows per page of the list, from 1 to 1,000; 50 by default.</summary>
    public int PageSize { get; set; } = 50;
}
