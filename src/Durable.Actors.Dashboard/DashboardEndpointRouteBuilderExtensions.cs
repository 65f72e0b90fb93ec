using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Durable.Actors.Dashboard;

/// <summary>Maps the workflow dashboard into an ASP.NET Core app that hosts the engine.</summary>
public static class DashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the workflow dashboard under <paramref name="pattern"/>: the list of workflows, each workflow with its
    /// timeline, and the actions resume, cancel and signal.
    /// </summary>
    /// <param name="endpoints">The app; its services must hold the <see cref="ActorSystem"/> running the engine (Akka.Hosting's <c>AddAkka</c> with <c>WithDurableWorkflows</c>).</param>
    /// <param name="pattern">Where the dashboard lives, e.g. <c>/workflows</c>.</param>
    /// <param name="configure">Sets the options: an access token, read-only.</param>
    /// <returns>A builder for the dashboard's endpoints, e.g. to add <c>.RequireAuthorization(...)</c>.</returns>
    /// <remarks>
    /// Without an access token it answers requests from this machine only. Actions are POSTs that carry a token of
    /// the page they come from and say they come from the dashboard's origin; requests sent by another site are refused.
    /// Behind a reverse proxy, call <c>UseForwardedHeaders</c> first in the pipeline with the proxy trusted (its client address and
    /// scheme are then the request's); a request forwarded by a proxy the app does not trust is never taken for local.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The app's services have no <see cref="ActorSystem"/>.</exception>
    public static IEndpointConventionBuilder MapDurableWorkflowsDashboard(
        this IEndpointRouteBuilder endpoints,
        [StringSyntax("Route")] string pattern = "/workflows",
        Action<DurableDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>() is { } services && !services.IsService(typeof(ActorSystem)))
        {
            throw new InvalidOperationException(
                "The workflow dashboard reads the engine's ActorSystem from the app's services, and there is none: call " +
                "services.AddAkka(name, (akka, _) => akka.WithDurableWorkflows(...)) before MapDurableWorkflowsDashboard " +
                "(or register the ActorSystem that DurableWorkflows.Start ran in).");
        }
        var options = new DurableDashboardOptions();
        configure?.Invoke(options);
        if (options.PageSize is < 1 or > WorkflowQuery.MaxLimit)
            throw new ArgumentOutOfRangeException(nameof(configure), options.PageSize, $"The page size must be from 1 to {WorkflowQuery.MaxLimit}, not {options.PageSize}.");

        var dashboard = new DashboardHandlers(options, "/" + pattern.Trim('/'));
        var group = endpoints.MapGroup(pattern);
        group.MapGet("", dashboard.ListAsync);
        group.MapGet("/workflow", dashboard.WorkflowAsync);
        group.MapPost("/workflow/{action}", dashboard.ActionAsync);
        group.MapPost("/purge", dashboard.PurgeAsync);
        group.MapGet("/schedules", dashboard.SchedulesAsync);
        group.MapPost("/schedules/{action}", dashboard.ScheduleActionAsync);
        group.MapGet("/queues", dashboard.QueuesAsync);
        return group;
    }
}
