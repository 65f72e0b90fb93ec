using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Durable.Actors.Dashboard;

/// <summary>The dashboard's requests: the list, a workflow, and the actions on it.</summary>
internal sealed class DashboardHandlers(DurableDashboardOptions options, string basePath)
{
    // A resume replies only when the run ends or waits: the page waits this long, then says it is under way.
    private static readonly TimeSpan ResumeWait = TimeSpan.FromSeconds(3);

    // A cancellation or a signal replies once it is durable: a wait this long means a journal in trouble.
    private static readonly TimeSpan DurableWait = TimeSpan.FromSeconds(15);

    private readonly DashboardSecurity _security = new(options);

    public Task ListAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        var request = context.Request.Query;
        WorkflowRunStatus? status = null;
        var statusText = request["status"].ToString();
        if (statusText.Length > 0)
        {
            if (!Enum.TryParse<WorkflowRunStatus>(statusText, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(statusText, out _))
                return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", $"Unknown status '{statusText}': use running, paused, completed, failed or cancelled."));
            status = parsed;
        }
        if (Pages.Filters(request["where"].ToString(), out var error) is not { } attributes)
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", error!));
        var query = new WorkflowQuery
        {
            Status = status,
            Type = Blank(request["type"].ToString()),
            IdPrefix = Blank(request["prefix"].ToString()),
            Attributes = attributes,
            After = Blank(request["after"].ToString()),
            Limit = options.PageSize,
        };
        WorkflowPage result;
        try
        {
            result = await DurableWorkflows.ListAsync(system, query, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", e.Message));
        }
        var counts = await DurableWorkflows.CountByStatusAsync(system, context.RequestAborted).ConfigureAwait(false);
        return (StatusCodes.Status200OK, Pages.List(page, query, result, counts));
    });

    /// <summary>The list's bulk purge: every ended workflow of the status, type, prefix and attributes posted; then the list, with how many went.</summary>
    public Task PurgeAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        var (form, refusal) = await ReadPostAsync(context, page, "A purge").ConfigureAwait(false);
        if (form is null)
            return refusal;
        var statusText = form["status"].ToString();
        if (!Enum.TryParse<WorkflowRunStatus>(statusText, ignoreCase: true, out var status) || int.TryParse(statusText, out _)
            || status is not (WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled))
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", $"Only ended workflows are purged: status completed, failed or cancelled, not '{statusText}'."));
        if (Pages.Filters(form["where"].ToString(), out var error) is not { } attributes)
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", error!));
        var query = new WorkflowQuery
        {
            Status = status, Type = Blank(form["type"].ToString()), IdPrefix = Blank(form["prefix"].ToString()), Attributes = attributes, Limit = WorkflowQuery.MaxLimit,
        };
        var purged = await DurableWorkflows.Client(system).PurgeAsync(query, withChildren: false, context.RequestAborted).ConfigureAwait(false);
        var outcome = new Outcome(true, purged.Count == 1 ? "Purged 1 workflow." : $"Purged {purged.Count.ToString(CultureInfo.InvariantCulture)} workflows.");
        var list = query with { Limit = options.PageSize };
        var result = await DurableWorkflows.ListAsync(system, list, context.RequestAborted).ConfigureAwait(false);
        var counts = await DurableWorkflows.CountByStatusAsync(system, context.RequestAborted).ConfigureAwait(false);
        return (StatusCodes.Status200OK, Pages.List(page, list, result, counts, outcome));
    });

    /// <summary>The schedules, with their next ticks and the actions pause, resume and trigger.</summary>
    public Task SchedulesAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
        (StatusCodes.Status200OK, await SchedulesPageAsync(page, system, outcome: null, context.RequestAborted).ConfigureAwait(false)));

    /// <summary>Pauses, resumes or triggers the schedule posted; then the schedules, with the outcome.</summary>
    public Task ScheduleActionAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        var (form, refusal) = await ReadPostAsync(context, page, "A schedule action").ConfigureAwait(false);
        if (form is null)
            return refusal;
        var id = form["id"].ToString();
        var action = context.Request.RouteValues["action"] as string;
        Outcome outcome;
        try
        {
            var schedules = DurableWorkflows.Client(system).Schedules;
            switch (action)
            {
                case "pause":
                    await schedules.PauseAsync(id, context.RequestAborted).ConfigureAwait(false);
                    outcome = new Outcome(true, $"Schedule '{id}' is paused: its ticks start nothing until it is resumed.");
                    break;
                case "resume":
                    await schedules.ResumeAsync(id, context.RequestAborted).ConfigureAwait(false);
                    outcome = new Outcome(true, $"Schedule '{id}' is resumed from now.");
                    break;
                case "trigger":
                    var started = await schedules.TriggerAsync(id, context.RequestAborted).ConfigureAwait(false);
                    outcome = new Outcome(true, $"Schedule '{id}' started workflow '{started}'.");
                    break;
                default:
                    return (StatusCodes.Status404NotFound, Pages.Message(page, "Not found", $"There is no schedule action '{action}': pause, resume or trigger."));
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or NotSupportedException)
        {
            outcome = new Outcome(false, e.Message);
        }
        catch (WorkflowRejectedException e)
        {
            outcome = new Outcome(false, $"Schedule '{id}' started nothing: {e.Reason}");
        }
        return (StatusCodes.Status200OK, await SchedulesPageAsync(page, system, outcome, context.RequestAborted).ConfigureAwait(false));
    });

    /// <summary>The queues: their limits, their enqueued and running workflows, per key.</summary>
    public Task QueuesAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        IReadOnlyList<QueueInfo>? queues = null;
        try
        {
            queues = await DurableWorkflows.Client(system).Queues.ListAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // A host without queues (a cluster): the page says so.
        }
        return (StatusCodes.Status200OK, Pages.Queues(page, queues));
    });

    private static async Task<string> SchedulesPageAsync(PageContext page, ActorSystem system, Outcome? outcome, CancellationToken cancellationToken)
    {
        IReadOnlyList<ScheduleInfo>? schedules = null;
        try
        {
            schedules = await DurableWorkflows.Client(system).Schedules.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // A host without schedules (a cluster): the page says so.
        }
        return Pages.Schedules(page, schedules, outcome);
    }

    public Task WorkflowAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        var id = context.Request.Query["id"].ToString();
        if (id.Length == 0)
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", "Which workflow? The address needs ?id=<workflow id>."));
        return await WorkflowPageAsync(context, page, system, id, outcome: null).ConfigureAwait(false);
    });

    public Task ActionAsync(HttpContext context) => ServeAsync(context, async (page, system) =>
    {
        var (form, refusal) = await ReadPostAsync(context, page, "An action").ConfigureAwait(false);
        if (form is null)
            return refusal;
        var id = form["id"].ToString();
        if (id.Length == 0)
            return (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", "The form names no workflow (field id)."));
        var action = context.Request.RouteValues["action"] as string;
        object command;
        switch (action)
        {
            case "resume":
                command = new ResumeWorkflow(id);
                break;
            case "cancel":
                command = new CancelWorkflow(id, Blank(form["reason"].ToString()));
                break;
            case "pause":
                command = new PauseWorkflow(id, Blank(form["reason"].ToString()));
                break;
            case "unpause":
                command = new UnpauseWorkflow(id);
                break;
            case "fork":
                return await ForkAsync(context, page, system, id, Blank(form["from"].ToString()), Blank(form["newId"].ToString())).ConfigureAwait(false);
            case "signal":
                var name = form["signal"].ToString().Trim();
                if (name.Length == 0)
                    return await WorkflowPageAsync(context, page, system, id, new Outcome(false, "The signal was not sent: give its name.")).ConfigureAwait(false);
                var payload = Blank(form["payload"].ToString());
                if (payload is not null)
                {
                    try
                    {
                        using var _ = JsonDocument.Parse(payload);
                    }
                    catch (JsonException e)
                    {
                        return await WorkflowPageAsync(context, page, system, id, new Outcome(false, $"The signal was not sent: the payload is not valid JSON ({e.Message})."))
                            .ConfigureAwait(false);
                    }
                }
                command = new SignalWorkflow(id, name, payload);
                break;
            default:
                return (StatusCodes.Status404NotFound, Pages.Message(page, "Not found", $"There is no action '{action}': resume, cancel, pause, unpause, signal or fork."));
        }

        if (await DurableWorkflows.GetDetailAsync(system, id, context.RequestAborted).ConfigureAwait(false) is null)
            return (StatusCodes.Status404NotFound, Pages.Message(page, "Workflow not found", $"There is no workflow '{id}' in this database."));
        var outcome = await SendAsync(system, command, id).ConfigureAwait(false);
        return await WorkflowPageAsync(context, page, system, id, outcome).ConfigureAwait(false);
    });

    /// <summary>Forks <paramref name="id"/> (from the top when <paramref name="from"/> is null) and shows the new workflow, or the refusal on the source's page.</summary>
    private static async Task<(int, string)> ForkAsync(HttpContext context, PageContext page, ActorSystem system, string id, string? from, string? newId)
    {
        if (await DurableWorkflows.GetDetailAsync(system, id, context.RequestAborted).ConfigureAwait(false) is null)
            return (StatusCodes.Status404NotFound, Pages.Message(page, "Workflow not found", $"There is no workflow '{id}' in this database."));
        using var wait = new CancellationTokenSource(DurableWait);
        WorkflowHandle<object> fork;
        try
        {
            fork = await DurableWorkflows.Client(system).ForkAsync<object>(id, new ForkOptions { From = from, WorkflowId = newId?.Trim() }, wait.Token).ConfigureAwait(false);
        }
        catch (WorkflowRejectedException e)
        {
            return await WorkflowPageAsync(context, page, system, id, new Outcome(false, $"Not forked: {e.Reason}")).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            return await WorkflowPageAsync(context, page, system, id,
                new Outcome(false, $"No answer from the engine within {DurableWait.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: the fork may still take effect.")).ConfigureAwait(false);
        }
        var outcome = new Outcome(true, $"Workflow '{id}' forked {(from is null ? "from the top" : $"at {from}")} as '{fork.WorkflowId}': it runs (this page follows it).");
        return await WorkflowPageAsync(context, page, system, fork.WorkflowId, outcome).ConfigureAwait(false);
    }

    private static async Task<Outcome> SendAsync(ActorSystem system, object command, string id)
    {
        var timeout = command is ResumeWorkflow ? ResumeWait : DurableWait;
        using var wait = new CancellationTokenSource(timeout);
        object reply;
        try
        {
            reply = await DurableWorkflows.Client(system).AskAsync(command, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            return command is ResumeWorkflow
                ? new Outcome(true, $"Workflow '{id}' resumed: it is running (this page follows it).")
                : new Outcome(false, $"No answer from the engine within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: the request may still take effect.");
        }
        return reply switch
        {
            WorkflowCompleted => new Outcome(true, $"Workflow '{id}' resumed and completed."),
            WorkflowFailed failed => new Outcome(false, $"Workflow '{id}' resumed and failed again: {failed.Error}"),
            WorkflowWaiting waiting => new Outcome(true, $"Workflow '{id}' resumed and waits: {waiting.WaitingFor}."),
            WorkflowCancelled => new Outcome(true, $"Workflow '{id}' is cancelled."),
            CancellationRequested => new Outcome(true, $"Cancellation of workflow '{id}' requested: it runs its cleanup and ends CANCELLED."),
            WorkflowPaused => new Outcome(true, $"Workflow '{id}' is paused: it begins no new step or wait until it is unpaused."),
            WorkflowUnpaused => new Outcome(true, $"Workflow '{id}' is unpaused: it goes on where it stopped."),
            SignalDelivered delivered => new Outcome(true, $"Signal '{delivered.SignalName}' delivered to workflow '{id}'."),
            WorkflowRejected rejected => new Outcome(false, $"Refused: {rejected.Reason}"),
            WorkflowNotFound => new Outcome(false, $"There is no workflow '{id}'."),
            _ => new Outcome(false, $"Unexpected answer from the engine: {reply.GetType().Name}."),
        };
    }

    private static async Task<(int, string)> WorkflowPageAsync(HttpContext context, PageContext page, ActorSystem system, string id, Outcome? outcome)
    {
        var detail = await DurableWorkflows.GetDetailAsync(system, id, context.RequestAborted).ConfigureAwait(false);
        return detail is null
            ? (StatusCodes.Status404NotFound, Pages.Message(page, "Workflow not found", $"There is no workflow '{id}' in this database."))
            : (StatusCodes.Status200OK, Pages.Workflow(page, detail, DateTimeOffset.UtcNow, outcome));
    }

    /// <summary>Checks access, renders the page, then writes it with its security headers and the time it took (Server-Timing).</summary>
    /// <summary>
    /// The form of a POST that changes something (<paramref name="what"/>: an action, a purge), or the page refusing it:
    /// not a form, a POST from elsewhere (<see cref="DashboardSecurity"/>), or a read-only dashboard.
    /// </summary>
    private async Task<(IFormCollection? Form, (int Status, string Html) Refusal)> ReadPostAsync(HttpContext context, PageContext page, string what)
    {
        if (!context.Request.HasFormContentType)
            return (null, (StatusCodes.Status400BadRequest, Pages.Message(page, "Bad request", $"{what} is a form POST.")));
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (_security.CheckPost(context, form) is { } refused)
            return (null, (StatusCodes.Status403Forbidden, Pages.Message(page, "Forbidden", refused)));
        if (options.ReadOnly)
            return (null, (StatusCodes.Status403Forbidden, Pages.Message(page, "Forbidden", "This dashboard is read-only.")));
        return (form, default);
    }

    private async Task ServeAsync(HttpContext context, Func<PageContext, ActorSystem, Task<(int Status, string Html)>> render)
    {
        var started = Stopwatch.GetTimestamp();
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var page = new PageContext(context.Request.PathBase + basePath, nonce, "", options.ReadOnly);
        int status;
        string body;
        if (_security.Authorize(context) is var (denied, message))
        {
            (status, body) = (denied, Pages.Message(page, denied == StatusCodes.Status401Unauthorized ? "Access token required" : "Forbidden", message));
        }
        else if (HttpMethods.IsGet(context.Request.Method) && _security.TokenInQuery(context, out var clean))
        {
            context.Response.Redirect(clean);
            return;
        }
        else
        {
            page = page with { FormToken = _security.FormToken(context) };
            var system = context.RequestServices.GetRequiredService<ActorSystem>();
            (status, body) = await render(page, system).ConfigureAwait(false);
        }
        var headers = context.Response.Headers;
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        // same-origin, not no-referrer: with no-referrer a form's POST carries "Origin: null", which the check refuses.
        headers["Referrer-Policy"] = "same-origin";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy =
            $"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; img-src data:";
        headers["Server-Timing"] = "app;dur=" + Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
