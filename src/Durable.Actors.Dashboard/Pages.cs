using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Durable.Actors.Dashboard;

/// <summary>What a page needs besides its data: where the dashboard is mounted, this response's script nonce and form token.</summary>
internal sealed record PageContext(string BasePath, string Nonce, string FormToken, bool ReadOnly);

/// <summary>An action's outcome, shown above the workflow it was done on.</summary>
internal sealed record Outcome(bool Succeeded, string Message);

/// <summary>The dashboard's pages, rendered on the server; every value goes through <see cref="Html.Text(string?)"/> or <see cref="Html.Attr"/>.</summary>
internal static class Pages
{
    // Relaxed escaping keeps < and > readable: the text is HTML-encoded when written, as every value is.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string List(PageContext page, WorkflowQuery query, WorkflowPage result, IReadOnlyDictionary<WorkflowRunStatus, long>? counts, Outcome? outcome = null)
    {
        var html = new Html();
        Head(html, page, "Workflows", refreshUrl: null, outcome);
        html.Raw("<h1>Workflows</h1>");
        html.Raw("<nav class=\"counts\" aria-label=\"Counts by status\">");
        if (counts is not null)
        {
            html.Raw("<a").Attr("href", ListUrl(page, new WorkflowQuery())).Attr("class", query.Status is null && Unfiltered(query) ? "count current" : "count")
                .Raw(">all <b data-count=\"all\">").Text(counts.Values.Sum()).Raw("</b></a>");
            foreach (var status in Enum.GetValues<WorkflowRunStatus>())
            {
                // The counts are of every workflow, so their links drop the other filters: the list then holds that many.
                html.Raw("<a").Attr("href", ListUrl(page, new WorkflowQuery { Status = status }))
                    .Attr("class", (query.Status == status && Unfiltered(query) ? "count current " : "count ") + StatusClass(status))
                    .Raw(">").Text(StatusName(status).ToLowerInvariant()).Raw(" <b").Attr("data-count", StatusName(status).ToLowerInvariant()).Raw(">")
                    .Text(counts.GetValueOrDefault(status)).Raw("</b></a>");
            }
        }
        html.Raw("</nav>");

        html.Raw("<form class=\"filter\" method=\"get\" role=\"search\"").Attr("action", page.BasePath).Raw(">");
        html.Raw("<label>Status <select name=\"status\"><option value=\"\">any</option>");
        foreach (var status in Enum.GetValues<WorkflowRunStatus>())
        {
            html.Raw("<option").Attr("value", StatusName(status).ToLowerInvariant()).Raw(query.Status == status ? " selected>" : ">")
                .Text(StatusName(status).ToLowerInvariant()).Raw("</option>");
        }
        html.Raw("</select></label> <label>Type <input name=\"type\" size=\"14\"").Attr("value", query.Type).Raw("></label>");
        html.Raw(" <label>Id prefix <input name=\"prefix\" size=\"18\"").Attr("value", query.IdPrefix).Raw("></label>");
        html.Raw(" <label>Attributes <input name=\"where\" size=\"28\" placeholder=\"customer=acme amount&gt;=100\"").Attr("value", Where(query)).Raw("></label>");
        html.Raw(" <button type=\"submit\">Filter</button> <a").Attr("href", page.BasePath).Raw(">clear</a></form>");
        if (!page.ReadOnly && query.Status is WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled && result.Items.Count > 0)
            PurgeForm(html, page, query);

        if (result.Items.Count == 0)
        {
            html.Raw("<p class=\"empty\">No workflow matches.</p>");
        }
        else
        {
            html.Raw("<table class=\"workflows\"><thead><tr><th>Workflow</th><th>Type</th><th>Status</th><th>Started</th><th>Ended</th>" +
                "<th class=\"num\">Steps</th><th class=\"num\">Failed attempts</th><th>Error</th></tr></thead><tbody>");
            foreach (var w in result.Items)
            {
                html.Raw("<tr").Attr("data-workflow", w.WorkflowId).Raw("><td><a").Attr("href", WorkflowUrl(page, w.WorkflowId)).Raw(">")
                    .Text(w.WorkflowId).Raw("</a></td><td>").Text(w.WorkflowType).Raw("</td><td>");
                Badge(html, w.Status);
                html.Raw("</td><td>").Text(Time(w.StartedAt)).Raw("</td><td>").Text(w.EndedAt is { } e ? Time(e) : "").Raw("</td><td class=\"num\">")
                    .Text(w.CompletedSteps).Raw(" / ").Text(w.StepCount).Raw("</td><td class=\"num\">").Text(w.FailedAttempts).Raw("</td><td class=\"error\">")
                    .Text(w.Error is { Length: > 160 } error ? error[..160] + "…" : w.Error).Raw("</td></tr>");
            }
            html.Raw("</tbody></table>");
        }
        html.Raw("<p class=\"paging\">");
        if (query.After is not null)
            html.Raw("<a").Attr("href", ListUrl(page, query with { After = null })).Raw(">« first page</a> ");
        if (result.NextCursor is not null)
            html.Raw("<a rel=\"next\"").Attr("href", ListUrl(page, query with { After = result.NextCursor })).Raw(">next page »</a>");
        html.Raw("</p>");
        Foot(html, page);
        return html.ToString();
    }

    public static string Workflow(PageContext page, WorkflowDetail detail, DateTimeOffset now, Outcome? outcome)
    {
        var s = detail.Status;
        var running = s.Status == WorkflowRunStatus.Running;
        var timeline = Timeline.Of(detail, now);
        var html = new Html();
        Head(html, page, s.WorkflowId, running ? WorkflowUrl(page, s.WorkflowId) : null, outcome);

        html.Raw("<p class=\"crumbs\"><a").Attr("href", page.BasePath).Raw(">« workflows</a></p>");
        html.Raw("<h1>").Text(s.WorkflowId).Raw(" ");
        Badge(html, s.Status);
        if (running)
            html.Raw(" <span class=\"live\" title=\"This page refreshes while the workflow runs\">● live</span>");
        html.Raw("</h1><dl class=\"facts\">");
        Fact(html, "Type", s.WorkflowType);
        Fact(html, "Started", Time(s.StartedAt));
        if (s.EndedAt is { } ended)
        {
            Fact(html, "Ended", Time(ended));
            Fact(html, "Duration", Duration(ended - s.StartedAt));
        }
        Fact(html, "Runs", timeline.RunStarts.Count.ToString(CultureInfo.InvariantCulture));
        if (detail.ParentId is { } parent)
        {
            html.Raw("<dt>Parent</dt><dd><a").Attr("href", WorkflowUrl(page, parent)).Raw(">").Text(parent).Raw("</a></dd>");
        }
        if (s.ForkedFrom is { } source)
        {
            html.Raw("<dt>Forked from</dt><dd class=\"forked-from\"><a").Attr("href", WorkflowUrl(page, source)).Raw(">").Text(source).Raw("</a> ")
                .Text(s.ForkedFromKey is { } key ? $"at {key}" : "from the top").Raw("</dd>");
        }
        if (s.WaitingFor is { } waiting)
            html.Raw("<dt>Waiting for</dt><dd class=\"waiting\">").Text(waiting).Raw("</dd>");
        else if (running)
            html.Raw("<dt>Waiting for</dt><dd class=\"waiting\">nothing: it runs, or it was left unfinished by a stop (resume carries it on)</dd>");
        if (s.Status.IsActive() && s.Deadline is { } deadline)
            html.Raw("<dt>Times out</dt><dd class=\"deadline\">").Text(Time(deadline)).Raw("</dd>");
        if (s.CustomStatusJson is { } custom)
            html.Raw("<dt>Custom status</dt><dd class=\"custom-status\"><code>").Text(custom).Raw("</code></dd>");
        if (s.Attributes.Count > 0)
        {
            html.Raw("<dt>Attributes</dt><dd class=\"attributes\">");
            foreach (var (name, value) in s.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
                html.Raw("<code>").Text(AttributeFilter.Equal(name, value).ToString()).Raw("</code> ");
            html.Raw("</dd>");
        }
        html.Raw("</dl>");

        if (!page.ReadOnly)
            Actions(html, page, s);

        TimelineSection(html, timeline);

        html.Raw("<section class=\"data\">");
        if (s.Error is not null)
            html.Raw("<h2>Error</h2><pre class=\"error\" id=\"error\">").Text(s.Error).Raw("</pre>");
        if (s.ResultJson is not null)
            html.Raw("<h2>Result</h2><pre class=\"json\" id=\"result\">").Text(Pretty(s.ResultJson)).Raw("</pre>");
        html.Raw("<h2>Input</h2><pre class=\"json\" id=\"input\">").Text(Pretty(detail.InputJson)).Raw("</pre></section>");
        Steps(html, page, detail);
        Waits(html, page, detail.Waits);
        Foot(html, page);
        return html.ToString();
    }

    public static string Message(PageContext page, string title, string message)
    {
        var html = new Html();
        Head(html, page, title, refreshUrl: null);
        html.Raw("<h1>").Text(title).Raw("</h1><p class=\"message\">").Text(message).Raw("</p><p><a").Attr("href", page.BasePath).Raw(">« workflows</a></p>");
        Foot(html, page);
        return html.ToString();
    }

    /// <summary>The schedules (null: the host keeps none), each with its next tick, its workflows and its actions.</summary>
    public static string Schedules(PageContext page, IReadOnlyList<ScheduleInfo>? schedules, Outcome? outcome)
    {
        var html = new Html();
        Head(html, page, "Schedules", refreshUrl: null, outcome);
        html.Raw("<h1>Schedules</h1>");
        if (schedules is null)
        {
            html.Raw("<p class=\"empty\">This host keeps no schedules: they live in the engine's SQLite file.</p>");
        }
        else if (schedules.Count == 0)
        {
            html.Raw("<p class=\"empty\">No schedule. Create one with the client's <code>Schedules.CreateAsync</code> or the CLI's <code>schedule create</code>.</p>");
        }
        else
        {
            html.Raw("<table class=\"schedules\"><thead><tr><th>Schedule</th><th>When</th><th>Type</th><th>Overlap</th><th>State</th>" +
                "<th>Last tick</th><th>Next tick</th><th>Actions</th></tr></thead><tbody>");
            foreach (var s in schedules)
            {
                var id = s.Spec.ScheduleId;
                html.Raw("<tr").Attr("data-schedule", id).Raw("><td><a").Attr("href", ListUrl(page, new WorkflowQuery { IdPrefix = id + "@" }))
                    .Attr("title", "its workflows").Raw(">").Text(id).Raw("</a></td><td>")
                    .Text(s.Spec.Cron is { } cron ? $"cron {cron} ({s.Spec.TimeZone})" : $"every {s.Spec.Every}").Raw("</td><td>").Text(s.Spec.WorkflowType)
                    .Raw("</td><td>").Text(s.Spec.Overlap.ToString()).Raw("</td><td class=\"state\">").Text(s.Paused ? "paused" : "active")
                    .Raw("</td><td>").Text(s.LastTickAt is { } last ? Time(last) : "").Raw("</td><td class=\"next\">")
                    .Text(s.NextTickAt is { } next ? Time(next) : "").Raw("</td><td>");
                if (!page.ReadOnly)
                {
                    var (action, label, confirm) = s.Paused
                        ? ("resume", "Resume", $"Resume schedule '{id}' from now? The ticks of the pause are not caught up.")
                        : ("pause", "Pause", $"Pause schedule '{id}'? Its ticks start nothing until it is resumed.");
                    ScheduleAction(html, page, id, action, label, confirm);
                    ScheduleAction(html, page, id, "trigger", "Trigger", $"Start a workflow of schedule '{id}' now?");
                }
                html.Raw("</td></tr>");
            }
            html.Raw("</tbody></table>");
        }
        Foot(html, page);
        return html.ToString();
    }

    /// <summary>The queues this host declares (null: it keeps none): limits, enqueued and running workflows, running per key.</summary>
    public static string Queues(PageContext page, IReadOnlyList<QueueInfo>? queues)
    {
        var html = new Html();
        Head(html, page, "Queues", refreshUrl: null);
        html.Raw("<h1>Queues</h1>");
        if (queues is null)
        {
            html.Raw("<p class=\"empty\">This host keeps no queues: they live in the engine's SQLite file.</p>");
        }
        else if (queues.Count == 0)
        {
            html.Raw("<p class=\"empty\">No queue is declared. Declare one with <code>WorkflowRegistry.AddQueue</code> or in HOCON (<code>durable-actors.queues.&lt;name&gt;</code>).</p>");
        }
        else
        {
            html.Raw("<table class=\"queues\"><thead><tr><th>Queue</th><th>Limits</th><th>Enqueued</th><th>Running</th><th>Running per key</th>" +
                "<th>Next delayed</th></tr></thead><tbody>");
            foreach (var q in queues)
            {
                html.Raw("<tr").Attr("data-queue", q.Options.Name).Raw("><td>").Text(q.Options.Name).Raw("</td><td>").Text(q.Options.Describe())
                    .Raw("</td><td class=\"enqueued\"><a").Attr("href", ListUrl(page, new WorkflowQuery { Status = WorkflowRunStatus.Enqueued }))
                    .Attr("title", "the enqueued workflows (of every queue)").Raw(">").Text(q.Enqueued.ToString(CultureInfo.InvariantCulture))
                    .Raw("</a></td><td class=\"running\">").Text(q.Running.ToString(CultureInfo.InvariantCulture)).Raw("</td><td>")
                    .Text(string.Join(", ", q.RunningByKey.Take(20).Select(k => $"{k.Key}: {k.Value.ToString(CultureInfo.InvariantCulture)}")) +
                        (q.RunningByKey.Count > 20 ? $" and {(q.RunningByKey.Count - 20).ToString(CultureInfo.InvariantCulture)} more keys" : ""))
                    .Raw("</td><td>").Text(q.NextNotBefore is { } next ? Time(next) : "").Raw("</td></tr>");
            }
            html.Raw("</tbody></table>");
        }
        Foot(html, page);
        return html.ToString();
    }

    private static void ScheduleAction(Html html, PageContext page, string scheduleId, string action, string label, string confirm)
    {
        html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/schedules/" + action).Attr("data-confirm", confirm).Raw(">");
        Hidden(html, page, scheduleId);
        html.Raw("<button type=\"submit\">").Text(label).Raw("</button></form> ");
    }

    private static void Actions(Html html, PageContext page, WorkflowStatus s)
    {
        html.Raw("<section class=\"actions\"><h2>Actions</h2>");
        var id = s.WorkflowId;
        if (Ended(s))
        {
            html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/workflow/fork")
                .Attr("data-confirm", $"Run workflow '{id}' again from the top, as a new workflow? It is not changed.").Raw(">");
            Hidden(html, page, id);
            html.Raw("<input name=\"newId\" placeholder=\"new id (optional)\" size=\"22\"> <button type=\"submit\" name=\"do\" value=\"restart\">Restart as new</button></form>");
        }
        if (s.Status is WorkflowRunStatus.Completed or WorkflowRunStatus.Cancelled)
        {
            html.Raw("</section>");
            return;
        }
        if (s.Status != WorkflowRunStatus.Enqueued)
        {
            html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/workflow/resume")
                .Attr("data-confirm", $"Resume workflow '{id}'? Completed steps replay, the others run.").Raw(">");
            Hidden(html, page, id);
            html.Raw("<button type=\"submit\" name=\"do\" value=\"resume\">Resume</button></form>");
        }

        html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/workflow/cancel")
            .Attr("data-confirm", s.Status == WorkflowRunStatus.Enqueued
                ? $"Cancel workflow '{id}'? It is enqueued: it ends CANCELLED without running."
                : $"Cancel workflow '{id}'? Its cleanup steps run and it ends CANCELLED.").Raw(">");
        Hidden(html, page, id);
        html.Raw("<input name=\"reason\" placeholder=\"reason (optional)\" size=\"22\"> <button type=\"submit\" name=\"do\" value=\"cancel\">Cancel</button></form>");

        if (s.Status == WorkflowRunStatus.Running)
        {
            html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/workflow/pause")
                .Attr("data-confirm", $"Pause workflow '{id}'? It begins no new step or wait until it is unpaused.").Raw(">");
            Hidden(html, page, id);
            html.Raw("<input name=\"reason\" placeholder=\"reason (optional)\" size=\"22\"> <button type=\"submit\" name=\"do\" value=\"pause\">Pause</button></form>");
        }
        if (s.Status == WorkflowRunStatus.Paused)
        {
            html.Raw("<form method=\"post\" class=\"action\"").Attr("action", page.BasePath + "/workflow/unpause")
                .Attr("data-confirm", $"Unpause workflow '{id}'? It goes on where it stopped.").Raw(">");
            Hidden(html, page, id);
            html.Raw("<button type=\"submit\" name=\"do\" value=\"unpause\">Unpause</button></form>");
        }
        if (s.Status.IsActive())
        {
            html.Raw("<form method=\"post\" class=\"action signal\"").Attr("action", page.BasePath + "/workflow/signal")
                .Attr("data-confirm", $"Send this signal to workflow '{id}'?").Raw(">");
            Hidden(html, page, id);
            html.Raw("<label>Signal <input name=\"signal\" required size=\"14\" placeholder=\"name\"></label> " +
                "<label>Payload (JSON) <textarea name=\"payload\" rows=\"2\" cols=\"36\" placeholder='{\"approved\": true}'></textarea></label> " +
                "<button type=\"submit\" name=\"do\" value=\"signal\">Send signal</button></form>");
        }
        html.Raw("</section>");
    }

    /// <summary>The bulk purge of an ended status's list: every workflow the filters match, on every page.</summary>
    private static void PurgeForm(Html html, PageContext page, WorkflowQuery query)
    {
        var which = StatusName(query.Status!.Value) + (query.Type is { } type ? $" workflows of type '{type}'" : " workflows")
            + (query.IdPrefix is { } prefix ? $" whose id starts with '{prefix}'" : "")
            + (Where(query) is { } where ? $" where {where}" : "");
        html.Raw("<form method=\"post\" class=\"action purge\"").Attr("action", page.BasePath + "/purge")
            .Attr("data-confirm", $"Purge all {which}? Their records are deleted for good.").Raw(">");
        html.Raw("<input type=\"hidden\" name=\"status\"").Attr("value", StatusName(query.Status.Value).ToLowerInvariant()).Raw(">");
        html.Raw("<input type=\"hidden\" name=\"type\"").Attr("value", query.Type).Raw(">");
        html.Raw("<input type=\"hidden\" name=\"prefix\"").Attr("value", query.IdPrefix).Raw(">");
        html.Raw("<input type=\"hidden\" name=\"where\"").Attr("value", Where(query)).Raw(">");
        html.Raw("<input type=\"hidden\"").Attr("name", DashboardSecurity.FormField).Attr("value", page.FormToken).Raw(">");
        html.Raw("<button type=\"submit\">Purge all ").Text(which).Raw("</button></form>");
    }

    private static void Hidden(Html html, PageContext page, string workflowId) =>
        html.Raw("<input type=\"hidden\" name=\"id\"").Attr("value", workflowId).Raw("><input type=\"hidden\"")
            .Attr("name", DashboardSecurity.FormField).Attr("value", page.FormToken).Raw(">");

    private static void TimelineSection(Html html, Timeline timeline)
    {
        html.Raw("<section class=\"timeline\" id=\"timeline\"><h2>Timeline</h2>");
        if (timeline.Lanes.Count == 0)
        {
            html.Raw("<p class=\"empty\">No step has started yet.</p></section>");
            return;
        }
        html.Raw("<div class=\"axis\"><span class=\"lane-label\"></span><div class=\"track\">");
        var ticks = new List<double> { 0, 25, 50, 75, 100 };
        foreach (var gap in timeline.Segments.Where(g => g.Shortened))
        {
            var left = timeline.Position(gap.From);
            var right = timeline.Position(gap.To);
            ticks.RemoveAll(t => t > left - 6 && t < right + 6);
            html.Raw("<span class=\"tick gap-label\"").Attr("style", $"left:{Html.Percent((left + right) / 2)}")
                .Attr("title", $"{Duration(gap.To - gap.From)} without activity, shortened on this axis").Raw(">⋯ ").Text(Duration(gap.To - gap.From)).Raw(" ⋯</span>");
        }
        foreach (var tick in ticks)
        {
            html.Raw("<span class=\"tick\"").Attr("style", $"left:{Html.Percent(tick)}")
                .Raw(">+").Text(Duration(timeline.TimeAt(tick) - timeline.From)).Raw("</span>");
        }
        html.Raw("</div></div>");
        foreach (var lane in timeline.Lanes)
        {
            html.Raw("<div class=\"lane\"").Attr("data-lane", lane.Name).Raw("><span class=\"lane-label\">").Text(lane.Name).Raw("</span><div class=\"track\">");
            foreach (var gap in timeline.Segments.Where(g => g.Shortened))
            {
                var left = timeline.Position(gap.From);
                html.Raw("<span class=\"gap\"").Attr("style", $"left:{Html.Percent(left)};width:{Html.Percent(timeline.Position(gap.To) - left)}").Raw("></span>");
            }
            for (var r = 1; r < timeline.RunStarts.Count; r++)
            {
                html.Raw("<span class=\"run-start\"").Attr("style", $"left:{Html.Percent(timeline.Position(timeline.RunStarts[r]))}")
                    .Attr("title", $"run {r + 1} started {Time(timeline.RunStarts[r])}").Raw("></span>");
            }
            foreach (var bar in lane.Bars)
            {
                var left = timeline.Position(bar.Start);
                var width = Math.Max(timeline.Position(bar.End) - left, 0.4);
                var title = $"{bar.Step.StepId} ({bar.Step.Key}) attempt {bar.Attempt}: {bar.Kind}, {Duration(bar.End - bar.Start)}, from {Time(bar.Start)}"
                    + (bar.ReplayedRuns > 0 ? $"; replayed in {bar.ReplayedRuns} later run(s)" : "")
                    + (bar.Error is not null ? $"; {(bar.Error.Length > 300 ? bar.Error[..300] + "…" : bar.Error)}" : "");
                html.Raw("<span").Attr("class", "bar " + bar.Kind + (bar.ReplayedRuns > 0 ? " replayed" : ""))
                    .Attr("style", $"left:{Html.Percent(left)};width:{Html.Percent(Math.Min(width, 100 - left))}")
                    .Attr("data-key", bar.Step.Key).Attr("data-step", bar.Step.StepId).Attr("data-attempt", bar.Attempt.ToString(CultureInfo.InvariantCulture))
                    .Attr("data-kind", bar.Kind).Attr("title", title).Raw(">").Text(bar.Step.StepId);
                if (bar.Attempt > 1 || bar.Kind is "failed" or "crashed")
                    html.Raw(" <small>#").Text(bar.Attempt).Raw("</small>");
                if (bar.ReplayedRuns > 0)
                    html.Raw(" <small class=\"replay-mark\">↻ replayed</small>");
                html.Raw("</span>");
            }
            html.Raw("</div></div>");
        }
        html.Raw("<p class=\"legend\"><span class=\"bar completed\">completed</span> <span class=\"bar failed\">failed attempt</span> " +
            "<span class=\"bar crashed\">cut short by a crash</span> <span class=\"bar running\">running</span> " +
            "<span class=\"bar completed replayed\">↻ replayed in a later run</span> <span class=\"run-key\"></span> a run started (resume) " +
            "<span class=\"gap-key\"></span> idle time, shortened</p>");
        html.Raw("</section>");
    }

    /// <summary>Whether the workflow ended (completed, failed or cancelled): only then can it be forked.</summary>
    private static bool Ended(WorkflowStatus s) => s.Status is WorkflowRunStatus.Completed or WorkflowRunStatus.Failed or WorkflowRunStatus.Cancelled;

    private static void Steps(Html html, PageContext page, WorkflowDetail detail)
    {
        var s = detail.Status;
        // An ended workflow can be forked at any of its steps: a new workflow replays what came before and runs the rest.
        var forkable = !page.ReadOnly && Ended(s);
        html.Raw("<section class=\"steps\"><h2>Steps</h2>");
        if (s.Steps.Count == 0)
        {
            html.Raw("<p class=\"empty\">None yet.</p></section>");
            return;
        }
        // One form; each row's button submits it with that step's key (a form per row weighed on long workflows).
        if (forkable)
        {
            html.Raw("<form method=\"post\" id=\"fork-form\"").Attr("action", page.BasePath + "/workflow/fork").Raw(">");
            Hidden(html, page, s.WorkflowId);
            html.Raw("</form>");
        }
        html.Raw("<table><thead><tr><th>Key</th><th>Step</th><th>Status</th><th class=\"num\">Attempts</th><th>Started</th><th>Duration</th>" +
            "<th>Result or error</th>" + (forkable ? "<th></th>" : "") + "</tr></thead><tbody>");
        foreach (var step in s.Steps)
        {
            html.Raw("<tr").Attr("data-key", step.Key).Raw("><td>").Text(step.Key).Raw("</td><td>").Text(step.StepId).Raw("</td><td>")
                .Element("span", StepStatusName(step.Status), "badge " + StepStatusName(step.Status).ToLowerInvariant()).Raw("</td><td class=\"num\">")
                .Text(step.Attempts).Raw("</td><td>").Text(Time(step.StartedAt)).Raw("</td><td>")
                .Text(step.EndedAt is { } end ? Duration(end - step.StartedAt) : "").Raw("</td><td>");
            if (step.ResultJson is not null)
            {
                html.Raw("<details").Attr("id", "result-" + step.Key).Raw("><summary>result</summary><pre class=\"json\">")
                    .Text(Pretty(step.ResultJson)).Raw("</pre></details>");
            }
            if (step.LastHeartbeatAt is { } heartbeat && step.Status == StepStatus.InProgress)
            {
                html.Raw("<details class=\"heartbeat\"").Attr("id", "heartbeat-" + step.Key).Raw("><summary>heartbeat at ").Text(Time(heartbeat))
                    .Raw("</summary><pre class=\"json\">").Text(step.HeartbeatDetailsJson is { } details ? Pretty(details) : "no details").Raw("</pre></details>");
            }
            foreach (var failure in step.Failures)
            {
                html.Raw("<details class=\"failure\"").Attr("id", $"failure-{step.Key}-{failure.Attempt}").Raw("><summary>attempt ").Text(failure.Attempt)
                    .Raw(failure.IsZombie ? " cut short by a crash" : " failed").Raw(" at ").Text(Time(failure.At))
                    .Raw("</summary><pre class=\"error\">").Text(failure.Error).Raw("</pre></details>");
            }
            html.Raw("</td>");
            if (forkable)
            {
                html.Raw("<td><button type=\"submit\" form=\"fork-form\" name=\"from\"").Attr("value", step.Key)
                    .Attr("data-confirm", $"Fork workflow '{s.WorkflowId}' at {step.Key}? A new workflow replays the steps before it and runs this one and the rest.")
                    .Raw(" title=\"Run this step and the rest again, as a new workflow\">Fork here</button></td>");
            }
            html.Raw("</tr>");
        }
        html.Raw("</tbody></table></section>");
    }

    /// <summary>The durable waits (timers, signal waits, child waits), in key order; nothing when the workflow has none.</summary>
    private static void Waits(Html html, PageContext page, IReadOnlyList<WaitRecord> waits)
    {
        if (waits.Count == 0)
            return;
        html.Raw("<section class=\"waits\"><h2>Waits</h2><table><thead><tr><th>Key</th><th>Waits for</th><th>Status</th><th>Started</th>" +
            "<th>Due</th><th>Ended</th><th>Received</th></tr></thead><tbody>");
        foreach (var wait in waits)
        {
            var status = WaitStatusName(wait.Status);
            html.Raw("<tr").Attr("data-key", wait.Key).Raw("><td>").Text(wait.Key).Raw("</td><td>");
            switch (wait.Kind)
            {
                case WaitKind.Timer:
                    html.Raw("timer");
                    break;
                case WaitKind.Child:
                    html.Raw("child <a").Attr("href", WorkflowUrl(page, wait.Name!)).Raw(">").Text(wait.Name).Raw("</a>");
                    break;
                default:
                    html.Raw("signal <code>").Text(wait.Name).Raw("</code>");
                    break;
            }
            html.Raw("</td><td>").Element("span", status, "badge " + status.ToLowerInvariant()).Raw("</td><td>").Text(Time(wait.StartedAt))
                .Raw("</td><td>").Text(wait.DueAt is { } due ? Time(due) : "").Raw("</td><td>").Text(wait.EndedAt is { } ended ? Time(ended) : "").Raw("</td><td>");
            if (wait.PayloadJson is { } payload)
                html.Raw("<details").Attr("id", "received-" + wait.Key).Raw("><summary>received</summary><pre class=\"json\">").Text(Pretty(payload)).Raw("</pre></details>");
            html.Raw("</td></tr>");
        }
        html.Raw("</tbody></table></section>");
    }

    private static string WaitStatusName(WaitStatus status) => status switch
    {
        WaitStatus.Waiting => "WAITING",
        WaitStatus.Fired => "FIRED",
        WaitStatus.Received => "RECEIVED",
        WaitStatus.Ended => "ENDED",
        WaitStatus.TimedOut => "TIMED_OUT",
        _ => "CANCELLED",
    };

    private static void Fact(Html html, string name, string value) => html.Raw("<dt>").Text(name).Raw("</dt><dd>").Text(value).Raw("</dd>");

    private static void Badge(Html html, WorkflowRunStatus status) =>
        html.Element("span", StatusName(status), "badge " + StatusClass(status));

    private static void Head(Html html, PageContext page, string title, string? refreshUrl, Outcome? outcome = null)
    {
        html.Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<title>").Text(title).Raw(" · Durable.Actors</title><style>").Raw(Style).Raw("</style></head><body>")
            .Raw("<header><a class=\"brand\"").Attr("href", page.BasePath).Raw(">Durable.Actors</a> <span>workflow dashboard</span> <nav class=\"pages\"><a")
            .Attr("href", page.BasePath).Raw(">workflows</a> <a").Attr("href", page.BasePath + "/schedules").Raw(">schedules</a> <a")
            .Attr("href", page.BasePath + "/queues").Raw(">queues</a></nav></header>");
        if (outcome is not null)
        {
            html.Raw("<p role=\"status\"").Attr("class", outcome.Succeeded ? "outcome ok" : "outcome refused").Raw(">").Text(outcome.Message).Raw("</p>");
        }
        html.Raw("<main");
        if (refreshUrl is not null)
            html.Attr("data-refresh", refreshUrl);
        html.Raw(">");
    }

    private static void Foot(Html html, PageContext page) =>
        html.Raw("</main><script").Attr("nonce", page.Nonce).Raw(">").Raw(Script).Raw("</script></body></html>");

    public static string ListUrl(PageContext page, WorkflowQuery query)
    {
        var parts = new List<string>();
        if (query.Status is { } status)
            parts.Add("status=" + StatusName(status).ToLowerInvariant());
        if (!string.IsNullOrEmpty(query.Type))
            parts.Add("type=" + Html.Url(query.Type));
        if (!string.IsNullOrEmpty(query.IdPrefix))
            parts.Add("prefix=" + Html.Url(query.IdPrefix));
        if (Where(query) is { } where)
            parts.Add("where=" + Html.Url(where));
        if (query.After is not null)
            parts.Add("after=" + Html.Url(query.After));
        return page.BasePath + (parts.Count > 0 ? "?" + string.Join('&', parts) : "");
    }

    /// <summary>Whether the list has no filter but its status.</summary>
    private static bool Unfiltered(WorkflowQuery query) => query.Type is null && query.IdPrefix is null && query.Attributes.Count == 0;

    /// <summary>The attribute filters as the list's field holds them (conditions separated by spaces); null for none.</summary>
    private static string? Where(WorkflowQuery query) => query.Attributes.Count > 0 ? string.Join(' ', query.Attributes) : null;

    /// <summary>
    /// The attribute filters of the list's field: conditions separated by spaces (<c>customer="Acme Ltd" amount&gt;=100</c>),
    /// a space inside double quotes kept; null, with <paramref name="error"/>, when one is no condition.
    /// </summary>
    public static IReadOnlyList<AttributeFilter>? Filters(string text, out string? error)
    {
        error = null;
        var conditions = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
                quoted = !quoted;
            if (char.IsWhiteSpace(c) && !quoted)
            {
                if (current.Length > 0)
                    conditions.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0)
            conditions.Add(current.ToString());
        var filters = new List<AttributeFilter>();
        foreach (var condition in conditions)
        {
            try
            {
                filters.Add(AttributeFilter.Parse(condition));
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }
        return filters;
    }

    public static string WorkflowUrl(PageContext page, string workflowId) => page.BasePath + "/workflow?id=" + Html.Url(workflowId);

    public static string StatusName(WorkflowRunStatus status) => status switch
    {
        WorkflowRunStatus.Running => "RUNNING",
        WorkflowRunStatus.Completed => "COMPLETED",
        WorkflowRunStatus.Cancelled => "CANCELLED",
        WorkflowRunStatus.Paused => "PAUSED",
        WorkflowRunStatus.Enqueued => "ENQUEUED",
        _ => "FAILED",
    };

    private static string StatusClass(WorkflowRunStatus status) => StatusName(status).ToLowerInvariant();

    private static string StepStatusName(StepStatus status) => status switch
    {
        StepStatus.InProgress => "IN_PROGRESS",
        StepStatus.Completed => "COMPLETED",
        _ => "FAILED",
    };

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan span) => span.TotalMilliseconds switch
    {
        < 1 => "0 ms",
        < 1000 => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms",
        < 60_000 => span.TotalSeconds.ToString("0.0#", CultureInfo.InvariantCulture) + " s",
        < 3_600_000 => span.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min",
        < 172_800_000 => span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture) + " h",
        _ => span.TotalDays.ToString("0.#", CultureInfo.InvariantCulture) + " d",
    };

    /// <summary>JSON indented for reading; text that is not JSON as it is.</summary>
    private static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private const string Style = """
        :root{--fg:#1d232b;--muted:#5d6875;--line:#d9dee4;--bg:#f6f7f9;--ok:#1f7a3d;--fail:#b3261e;--run:#1558b0;--cancel:#7a5a00}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header{background:#222b36;color:#fff;padding:.6rem 1.2rem}header a.brand{color:#fff;font-weight:600;text-decoration:none}header span{color:#b8c2cc}
        main{padding:1rem 1.2rem;max-width:1200px}h1{font-size:1.35rem;margin:.3rem 0 .8rem;word-break:break-all}h2{font-size:1.05rem;margin:1.2rem 0 .5rem}
        a{color:var(--run)}table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{font-weight:600;color:var(--muted);font-size:.85rem}td.num,th.num{text-align:right}td.error{color:var(--fail);max-width:28rem;overflow-wrap:anywhere}
        .badge{display:inline-block;padding:.05rem .45rem;border-radius:.8rem;font-size:.75rem;font-weight:600;color:#fff;background:var(--muted);vertical-align:middle}
        .badge.completed{background:var(--ok)}.badge.failed{background:var(--fail)}.badge.running,.badge.in_progress{background:var(--run)}.badge.cancelled,.badge.paused,.badge.enqueued,.badge.timed_out{background:var(--cancel)}.badge.waiting{background:var(--run)}.badge.fired,.badge.received,.badge.ended{background:var(--ok)}
        .counts{display:flex;gap:.5rem;flex-wrap:wrap;margin-bottom:.8rem}.count{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:.3rem .6rem;text-decoration:none;color:var(--fg)}
        .count.current{border-color:var(--run);box-shadow:0 0 0 1px var(--run)}.count b{margin-left:.3rem}
        .filter{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem;margin-bottom:.8rem}.paging{margin-top:.7rem}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}dd.waiting{font-weight:600}
        pre{background:#fff;border:1px solid var(--line);border-radius:.3rem;padding:.5rem;overflow:auto;max-height:24rem;margin:.2rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
        pre.error{color:var(--fail)}.live{color:var(--run);font-size:.8rem;font-weight:400}
        .actions form{display:inline-flex;gap:.4rem;align-items:center;margin:0 1rem .5rem 0;flex-wrap:wrap}textarea{vertical-align:middle;font-family:ui-monospace,monospace}
        button{padding:.3rem .8rem;border:1px solid #9aa5b1;border-radius:.3rem;background:#fff;cursor:pointer}button:hover{background:#eef2f6}
        .outcome{margin:.8rem 1.2rem 0;padding:.5rem .8rem;border-radius:.3rem;max-width:1200px}.outcome.ok{background:#e3f4e8;color:var(--ok)}.outcome.refused{background:#fbe4e2;color:var(--fail)}
        .timeline{background:#fff;border:1px solid var(--line);border-radius:.4rem;padding:.5rem .8rem}
        .lane,.axis{display:flex;align-items:center;min-height:1.9rem}.lane{border-top:1px dashed var(--line)}
        .lane-label{flex:0 0 7.5rem;color:var(--muted);font-size:.8rem}.track{position:relative;flex:1;height:1.7rem}
        .axis .track{height:1.2rem}.tick{position:absolute;white-space:nowrap;font-size:.7rem;color:var(--muted);transform:translateX(-50%)}.tick:first-child{transform:none}.tick:last-child{transform:translateX(-100%)}
        .bar{position:absolute;top:.2rem;height:1.3rem;border-radius:.25rem;font-size:.72rem;line-height:1.3rem;padding:0 .3rem;white-space:nowrap;overflow:hidden;color:#fff;background:var(--ok);min-width:3px}
        .bar.failed{background:var(--fail)}.bar.crashed{background:repeating-linear-gradient(45deg,#b3261e,#b3261e 5px,#d9736b 5px,#d9736b 10px)}
        .bar.running{background:var(--run)}.bar.unfinished{background:#8a96a3}.bar.replayed{outline:2px dashed #0b3d1c;outline-offset:-2px}
        .legend{font-size:.75rem;color:var(--muted);margin:.6rem 0 0}.legend .bar{position:static;display:inline-block;margin-right:.4rem}
        .gap{position:absolute;top:0;bottom:0;background:repeating-linear-gradient(90deg,#eef1f4,#eef1f4 3px,#fff 3px,#fff 6px)}.tick.gap-label{transform:translateX(-50%)}
        .run-start{position:absolute;top:0;bottom:0;border-left:2px dotted #222b36}.gap-key{display:inline-block;width:1.2rem;height:.9rem;vertical-align:middle;background:repeating-linear-gradient(90deg,#dfe4ea,#dfe4ea 3px,#fff 3px,#fff 6px)}
        .run-key{display:inline-block;width:0;height:1rem;border-left:2px dotted #222b36;vertical-align:middle}
        details summary{cursor:pointer;color:var(--run)}details.failure summary{color:var(--fail)}.empty,.message{color:var(--muted)}
        """;

    // Little script of our own: a confirmation before each action, and while a workflow runs the page's main part is
    // fetched again every 2 s and swapped in (keeping open <details>), until the workflow ends.
    private const string Script = """
        document.addEventListener('submit', e => {
          const message = (e.submitter && e.submitter.getAttribute('data-confirm')) || e.target.getAttribute('data-confirm');
          if (message && !confirm(message)) e.preventDefault();
        });
        (() => {
          const main = document.querySelector('main');
          const tick = async () => {
            const url = main.dataset.refresh;
            if (!url) return;
            const active = document.activeElement;
            if (!(active && active.closest('form') && active.tagName !== 'BODY')) {
              try {
                const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
                if (response.ok) {
                  const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
                  const open = [...main.querySelectorAll('details[open][id]')].map(d => d.id);
                  main.innerHTML = next.innerHTML;
                  if (next.dataset.refresh) main.dataset.refresh = next.dataset.refresh; else delete main.dataset.refresh;
                  for (const id of open) { const d = document.getElementById(id); if (d) d.open = true; }
                }
              } catch { }
            }
            if (main.dataset.refresh) setTimeout(tick, 2000);
          };
          if (main.dataset.refresh) setTimeout(tick, 2000);
        })();
        """;
}
