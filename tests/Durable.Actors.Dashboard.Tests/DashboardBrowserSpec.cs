using Durable.Actors.Dashboard.Tests.TestSupport;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Tests.TestSupport;
using Microsoft.Playwright;
using Xunit;
using CliProcess = Durable.Actors.Tests.TestSupport.Cli;
using static Microsoft.Playwright.Assertions;

namespace Durable.Actors.Dashboard.Tests;

/// <summary>The dashboard in a real headless Chromium, over an app that hosts the engine with Akka.Hosting.</summary>
[Collection(BrowserGroup.Name)]
public sealed class DashboardBrowserSpec(BrowserFixture browser) : IDisposable
{
    private readonly TempFolder _folder = new();

    static DashboardBrowserSpec() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task List_FilteredByStatusTypeAndIdPrefix_ShowsTheMatchingWorkflowsNewestFirstWithCounts()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("broken", async (ctx, _) =>
            await ctx.StepAsync<string>("call-api", () => throw new InvalidOperationException("the API said no"), RetryPolicy.None)),
            options => options.PageSize = 3);
        foreach (var id in new[] { "team-a-1", "team-a-2", "team-b-1" })
        {
            await host.Client.StartAsync<NewHire, OnboardingResult>(OnboardingWorkflow.TypeName, id, NewHire.Default);
            await host.WaitForAsync(id, s => s.Status == WorkflowRunStatus.Completed);
        }
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-1", ExpenseRequest.Default);
        await host.WaitForAsync("expense-1", s => s.WaitingFor is not null);
        await host.Client.StartAsync<string, string>("broken", "broken-1", "x");
        await host.WaitForAsync("broken-1", s => s.Status == WorkflowRunStatus.Failed);
        var page = await browser.NewPageAsync();

        await page.GotoAsync(host.Url);

        var rows = page.Locator("table.workflows tbody tr");
        await Expect(rows).ToHaveCountAsync(3);
        Assert.Equal(["broken-1", "expense-1", "team-b-1"], await RowIdsAsync(page));
        await Expect(page.Locator("[data-count=all]")).ToHaveTextAsync("5");
        await Expect(page.Locator("[data-count=running]")).ToHaveTextAsync("1");
        await Expect(page.Locator("[data-count=completed]")).ToHaveTextAsync("3");
        await Expect(page.Locator("[data-count=failed]")).ToHaveTextAsync("1");
        await Expect(page.Locator("tr[data-workflow=broken-1] td.error")).ToContainTextAsync("the API said no");
        await BrowserFixture.ScreenshotAsync(page, "list");

        await page.GetByRole(AriaRole.Link, new() { Name = "next page »" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Equal(["team-a-2", "team-a-1"], await RowIdsAsync(page));

        await page.GotoAsync(host.Url);
        await page.Locator("select[name=status]").SelectOptionAsync("completed");
        await page.Locator("input[name=prefix]").FillAsync("team-a");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("status=completed.*prefix=team-a"));
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Equal(["team-a-2", "team-a-1"], await RowIdsAsync(page));
        await BrowserFixture.ScreenshotAsync(page, "list-filtered");

        await page.GetByRole(AriaRole.Link, new() { Name = "clear" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(host.Url);
        await Expect(rows).ToHaveCountAsync(3);
        await page.Locator("input[name=type]").FillAsync("approval");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal(["expense-1"], await RowIdsAsync(page));

        await page.Locator("a.count.failed").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal(["broken-1"], await RowIdsAsync(page));
    }

    [Fact]
    public async Task WorkflowPage_Onboarding_ShowsEveryStepOnTheTimelineInOrderWithTheParallelBranchesOnTheirOwnRows()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<NewHire, OnboardingResult>(OnboardingWorkflow.TypeName, "onboard-1", NewHire.Default);
        await host.WaitForAsync("onboard-1", s => s.Status == WorkflowRunStatus.Completed);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Url);

        await page.GetByRole(AriaRole.Link, new() { Name = "onboard-1" }).ClickAsync();

        await Expect(page.Locator("h1")).ToContainTextAsync("onboard-1");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        var lanes = page.Locator(".timeline .lane");
        await Expect(lanes).ToHaveCountAsync(3);
        Assert.Equal(["main", "branch 2", "branch 3"], await lanes.EvaluateAllAsync<string[]>("ls => ls.map(l => l.dataset.lane)"));
        Assert.Equal(["create-employee", "send-welcome-email"], await BarStepsAsync(page, "main"));
        Assert.Equal(["provision-laptop"], await BarStepsAsync(page, "branch 2"));
        Assert.Equal(["provision-access"], await BarStepsAsync(page, "branch 3"));

        // In time: the employee first, both provisioning branches after it (at once, on their own rows), the email last.
        var create = await BoxAsync(page, "create-employee");
        var laptop = await BoxAsync(page, "provision-laptop");
        var access = await BoxAsync(page, "provision-access");
        var email = await BoxAsync(page, "send-welcome-email");
        Assert.True(create.X + create.Width <= laptop.X + 1 && create.X + create.Width <= access.X + 1, "the provisioning steps start after create-employee ends");
        Assert.True(laptop.X + laptop.Width <= email.X + 1 && access.X + access.Width <= email.X + 1, "the welcome email starts after both provisioning steps end");
        Assert.True(laptop.Y > create.Y && access.Y > laptop.Y, "each branch has its own row under the main one");
        Assert.True(laptop.X < access.X + access.Width && access.X < laptop.X + laptop.Width, "the branches overlap in time");

        var laptopRow = page.Locator("section.steps tr", new() { Has = page.Locator("td", new() { HasTextString = "provision-laptop" }) });
        await Expect(laptopRow.Locator("details pre")).Not.ToBeVisibleAsync();
        await laptopRow.Locator("details summary").ClickAsync();
        await Expect(laptopRow.Locator("details pre")).ToContainTextAsync("LAPTOP-");
        await Expect(page.Locator("#input")).ToContainTextAsync("Ada Lovelace");
        await Expect(page.Locator("#result")).ToContainTextAsync("welcomeEmailId");
        await BrowserFixture.ScreenshotAsync(page, "workflow-onboarding");
    }

    [Fact]
    public async Task Resume_AFailedWorkflowWhoseCauseWasFixed_CompletesAndShowsTheRetriesAndTheReplayedStep()
    {
        var failing = true;
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("charge", async (ctx, card) =>
        {
            var order = await ctx.StepAsync("reserve-stock", () => "reserved");
            var payment = await ctx.StepAsync("charge-card", () => Volatile.Read(ref failing)
                ? throw new InvalidOperationException($"card {card} declined")
                : "charged", new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(10), Jitter = 0 });
            return order + ", " + payment;
        }));
        await host.Client.StartAsync<string, string>("charge", "order-7", "4242");
        await host.WaitForAsync("order-7", s => s.Status == WorkflowRunStatus.Failed);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.WorkflowUrl("order-7"));
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("FAILED");
        await Expect(page.Locator("#error")).ToContainTextAsync("card 4242 declined");
        await Expect(page.Locator(".bar[data-step=charge-card][data-kind=failed]")).ToHaveCountAsync(2);
        Volatile.Write(ref failing, false);

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Workflow 'order-7' resumed");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        await Expect(page.Locator("#result")).ToContainTextAsync("reserved, charged");
        await Expect(page.Locator(".bar[data-step=reserve-stock].replayed")).ToHaveCountAsync(1);
        await Expect(page.Locator(".bar[data-step=charge-card][data-kind=completed]")).ToHaveAttributeAsync("data-attempt", "3");
        await Expect(page.Locator(".bar[data-step=charge-card][data-kind=failed]")).ToHaveCountAsync(2);
        await Expect(page.Locator(".lane[data-lane=main] .run-start")).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(page, "workflow-resumed");
    }

    [Fact]
    public async Task ForkHere_OnTheFailedStep_RunsANewWorkflowThatReplaysTheStepBefore_AndRestartRunsTheSourceAgainFromTheTop()
    {
        var failing = true;
        var reservations = 0;
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("charge", async (ctx, card) =>
        {
            var order = await ctx.StepAsync("reserve-stock", () => $"reserved {Interlocked.Increment(ref reservations)}");
            var payment = await ctx.StepAsync("charge-card", () => Volatile.Read(ref failing) ? throw new InvalidOperationException($"card {card} declined") : "charged",
                RetryPolicy.None);
            return order + ", " + payment;
        }));
        await host.Client.StartAsync<string, string>("charge", "order-9", "4242");
        await host.WaitForAsync("order-9", s => s.Status == WorkflowRunStatus.Failed);
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.WorkflowUrl("order-9"));
        Volatile.Write(ref failing, false);

        await page.Locator("tr[data-key='order-9:2']").GetByRole(AriaRole.Button, new() { Name = "Fork here" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Workflow 'order-9' forked at order-9:2 as 'order-9-fork-");
        await Expect(page.Locator("h1")).ToContainTextAsync("order-9-fork-");
        await Expect(page.Locator("dd.forked-from")).ToHaveTextAsync("order-9 at order-9:2");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        await Expect(page.Locator("#result")).ToContainTextAsync("reserved 1, charged");

        await page.GotoAsync(host.WorkflowUrl("order-9"));
        await page.Locator("form[action$='/workflow/fork'] input[name=newId]").FillAsync("order-9-again");
        await page.GetByRole(AriaRole.Button, new() { Name = "Restart as new" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Workflow 'order-9' forked from the top as 'order-9-again'");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        await Expect(page.Locator("#result")).ToContainTextAsync("reserved 2, charged");
        Assert.Equal(
            ["Fork workflow 'order-9' at order-9:2? A new workflow replays the steps before it and runs this one and the rest.",
             "Run workflow 'order-9' again from the top, as a new workflow? It is not changed."],
            confirmations);
        Assert.Equal(WorkflowRunStatus.Failed, (await DurableWorkflows.GetStatusAsync(host.System, "order-9"))!.Status);
    }

    [Fact]
    public async Task Cancel_AWorkflowWaitingForASignal_AsksForConfirmationAndEndsItCancelled()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-c", ExpenseRequest.Default);
        await host.WaitForAsync("expense-c", s => s.WaitingFor is not null);
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.WorkflowUrl("expense-c"));
        await Expect(page.Locator("dd.waiting")).ToContainTextAsync("waiting for signal 'decision'");

        await page.Locator("form[action$='/workflow/cancel'] input[name=reason]").FillAsync("duplicate claim");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Cancellation of workflow 'expense-c' requested");
        Assert.Equal(["Cancel workflow 'expense-c'? Its cleanup steps run and it ends CANCELLED."], confirmations);
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("CANCELLED");
        var status = await host.WaitForAsync("expense-c", s => s.Status == WorkflowRunStatus.Cancelled);
        Assert.Contains("duplicate claim", status.Error, StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "workflow-cancelled");
    }

    [Fact]
    public async Task PauseThenUnpause_AWaitingWorkflow_ShowsItPausedThenTheSignalRunsItToItsEnd()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-p", ExpenseRequest.Default);
        await host.WaitForAsync("expense-p", s => s.WaitingFor is not null);
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.WorkflowUrl("expense-p"));

        await page.Locator("form[action$='/workflow/pause'] input[name=reason]").FillAsync("audit");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause", Exact = true }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Workflow 'expense-p' is paused");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("PAUSED");
        await Expect(page.Locator("dd.waiting")).ToHaveTextAsync("paused: audit (unpause it to go on)");
        await host.Client.GetHandle<string>("expense-p").SignalAsync("decision", new ExpenseDecision(true, "grace"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Unpause", Exact = true }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Workflow 'expense-p' is unpaused");
        Assert.Equal(
            ["Pause workflow 'expense-p'? It begins no new step or wait until it is unpaused.", "Unpause workflow 'expense-p'? It goes on where it stopped."],
            confirmations);
        await host.WaitForAsync("expense-p", s => s.Status == WorkflowRunStatus.Completed);
        await page.ReloadAsync();
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
    }

    [Fact]
    public async Task PurgeAll_OfTheCompletedWithAPrefix_AsksForConfirmationAndLeavesTheOthers()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        foreach (var id in new[] { "team-a-1", "team-a-2", "team-b-1" })
        {
            await host.Client.StartAsync<NewHire, OnboardingResult>(OnboardingWorkflow.TypeName, id, NewHire.Default);
            await host.WaitForAsync(id, s => s.Status == WorkflowRunStatus.Completed);
        }
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "team-a-expense", ExpenseRequest.Default);
        await host.WaitForAsync("team-a-expense", s => s.WaitingFor is not null);
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        // No purge on a list that may hold running workflows.
        await page.GotoAsync(host.Url + "?prefix=team-a");
        await Expect(page.Locator("form.purge")).ToHaveCountAsync(0);

        await page.GotoAsync(host.Url + "?status=completed&prefix=team-a");
        await page.GetByRole(AriaRole.Button, new() { Name = "Purge all COMPLETED workflows whose id starts with 'team-a'" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToHaveTextAsync("Purged 2 workflows.");
        Assert.Equal(["Purge all COMPLETED workflows whose id starts with 'team-a'? Their records are deleted for good."], confirmations);
        await Expect(page.Locator("p.empty")).ToHaveTextAsync("No workflow matches.");
        Assert.Null(await DurableWorkflows.GetStatusAsync(host.System, "team-a-1"));
        Assert.NotNull(await DurableWorkflows.GetStatusAsync(host.System, "team-b-1"));
        Assert.NotNull(await DurableWorkflows.GetStatusAsync(host.System, "team-a-expense"));
    }

    [Fact]
    public async Task AttributesFilter_TheListAndItsPurge_AndTheWorkflowPageShowsThem()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<int, int>("ledger", async (ctx, total) =>
        {
            await ctx.SetAttributesAsync(new Dictionary<string, object?> { ["region"] = total > 50 ? "north america" : "europe", ["total"] = total });
            return await ctx.StepAsync("post", () => total);
        }));
        foreach (var (id, total) in new[] { ("ledger-1", 120), ("ledger-2", 60), ("ledger-3", 10) })
        {
            await host.Client.StartAsync<int, int>("ledger", id, total);
            await host.WaitForAsync(id, s => s.Status == WorkflowRunStatus.Completed);
        }
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.Url);

        await page.Locator("input[name=where]").FillAsync("region=\"north america\" total>=100");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        var rows = page.Locator("table.workflows tbody tr");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator("tr[data-workflow=ledger-1]")).ToHaveCountAsync(1);
        await page.Locator("input[name=where]").FillAsync("total>");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.Locator("main")).ToContainTextAsync("'total>' is not an attribute filter");

        await page.GotoAsync(host.WorkflowUrl("ledger-2"));
        await Expect(page.Locator("dd.attributes")).ToHaveTextAsync("region=\"north america\" total=60");

        await page.GotoAsync(host.Url + "?status=completed&where=" + Uri.EscapeDataString("region=\"north america\""));
        await page.GetByRole(AriaRole.Button, new() { Name = "Purge all COMPLETED workflows where region=\"north america\"" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToHaveTextAsync("Purged 2 workflows.");
        Assert.Equal(["Purge all COMPLETED workflows where region=\"north america\"? Their records are deleted for good."], confirmations);
        Assert.Null(await DurableWorkflows.GetStatusAsync(host.System, "ledger-1"));
        Assert.NotNull(await DurableWorkflows.GetStatusAsync(host.System, "ledger-3"));
    }

    [Fact]
    public async Task QueuesPage_ShowsEnqueuedAndRunningPerKey_AndAnEnqueuedWorkflowIsCancelledWithoutRunning()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r
            .Add<string, string>("mail", async (ctx, _) => (await ctx.WaitForSignalAsync<string>("sent")).Payload!)
            .AddQueue(new QueueOptions("outbox") { Concurrency = 1, KeyConcurrency = 1 }));
        await host.Client.EnqueueAsync<string, string>("mail", "mail-1", "x", new EnqueueOptions("outbox") { Key = "ada" });
        await host.Client.EnqueueAsync<string, string>("mail", "mail-2", "x", new EnqueueOptions("outbox") { Key = "ada" });
        await host.WaitForAsync("mail-1", s => s.WaitingFor is not null && s.Status == WorkflowRunStatus.Running);
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.Url);
        await page.GetByRole(AriaRole.Link, new() { Name = "queues", Exact = true }).ClickAsync();

        var row = page.Locator("tr[data-queue=outbox]");
        await Expect(row).ToContainTextAsync("concurrency 1, key concurrency 1");
        await Expect(row.Locator("td.running")).ToHaveTextAsync("1");
        await Expect(row).ToContainTextAsync("ada: 1");
        await row.Locator("td.enqueued a").ClickAsync();
        await Expect(page.Locator("table.workflows tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("tr[data-workflow=mail-2] .badge")).ToHaveTextAsync("ENQUEUED");

        await page.GotoAsync(host.WorkflowUrl("mail-2"));
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await host.WaitForAsync("mail-2", s => s.Status == WorkflowRunStatus.Cancelled);
        Assert.Equal(["Cancel workflow 'mail-2'? It is enqueued: it ends CANCELLED without running."], confirmations);
        Assert.Empty((await DurableWorkflows.GetStatusAsync(host.System, "mail-2"))!.Steps);
    }

    [Fact]
    public async Task SchedulesPage_ShowsTheNextTick_AndPausesResumesAndTriggers()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        var created = await host.Client.Schedules.CreateAsync(new ScheduleSpec("nightly-import", ImportWorkflow.TypeName)
        {
            Cron = "0 2 * * *", TimeZone = "Europe/Paris", InputJson = """{"rows": 2}""",
        });
        var page = await browser.NewPageAsync();
        var confirmations = new List<string>();
        page.Dialog += (_, dialog) => confirmations.Add(dialog.Message);
        await page.GotoAsync(host.Url);
        await page.GetByRole(AriaRole.Link, new() { Name = "schedules", Exact = true }).ClickAsync();

        var row = page.Locator("tr[data-schedule=nightly-import]");
        await Expect(row.Locator("td.next")).ToHaveTextAsync(Pages.Time(created.NextTickAt!.Value));
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(page.Locator("[role=status]")).ToHaveTextAsync("Schedule 'nightly-import' is paused: its ticks start nothing until it is resumed.");
        await Expect(row.Locator("td.state")).ToHaveTextAsync("paused");
        await Expect(row.Locator("td.next")).ToHaveTextAsync("");
        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row.Locator("td.state")).ToHaveTextAsync("active");
        await row.GetByRole(AriaRole.Button, new() { Name = "Trigger" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Schedule 'nightly-import' started workflow 'nightly-import@");
        var message = (await page.Locator("[role=status]").TextContentAsync())!;
        var started = message[(message.IndexOf("workflow '", StringComparison.Ordinal) + "workflow '".Length)..^2];
        await host.WaitForAsync(started, s => s.Status == WorkflowRunStatus.Completed);
        Assert.Equal(
            ["Pause schedule 'nightly-import'? Its ticks start nothing until it is resumed.",
             "Resume schedule 'nightly-import' from now? The ticks of the pause are not caught up.",
             "Start a workflow of schedule 'nightly-import' now?"],
            confirmations);
        // The schedule's name links to its workflows.
        await row.GetByRole(AriaRole.Link, new() { Name = "nightly-import" }).ClickAsync();
        await Expect(page.Locator("table.workflows tbody tr")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task WorkflowPage_ShowsTheCustomStatusAndWhenTheWorkflowTimesOut()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("bulk-import", async (ctx, _) =>
        {
            await ctx.SetCustomStatusAsync(new { Done = 2, Of = 5 });
            await ctx.WaitForSignalAsync<string>("publish");
            return "published";
        }));
        await host.Client.StartAsync<string, string>("bulk-import", "import-d", "x", new StartOptions { Timeout = TimeSpan.FromDays(2) });
        var waiting = await host.WaitForAsync("import-d", s => s.WaitingFor is not null && s.CustomStatusJson is not null);
        var page = await browser.NewPageAsync();

        await page.GotoAsync(host.WorkflowUrl("import-d"));

        await Expect(page.Locator("dd.custom-status")).ToHaveTextAsync("{\"done\":2,\"of\":5}");
        await Expect(page.Locator("dd.deadline")).ToHaveTextAsync(Pages.Time(waiting.Deadline!.Value));
    }

    [Fact]
    public async Task WorkflowPage_ShowsARunningStepsLastHeartbeatWithItsDetails()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r.Add<string, string>("copy", (ctx, _) =>
            ctx.StepAsync("copy-files", async ct =>
            {
                StepExecution.Current.Heartbeat(new { File = 17 });
                await release.Task.WaitAsync(ct);
                return "copied";
            }, new StepOptions { HeartbeatTimeout = TimeSpan.FromMinutes(5) })));
        try
        {
            await host.Client.StartAsync<string, string>("copy", "copy-h", "x");
            var running = await host.WaitForAsync("copy-h", s => s.Steps is [{ LastHeartbeatAt: not null }]);
            var page = await browser.NewPageAsync();

            await page.GotoAsync(host.WorkflowUrl("copy-h"));

            var heartbeat = page.Locator("details.heartbeat");
            await Expect(heartbeat.Locator("summary")).ToHaveTextAsync("heartbeat at " + Pages.Time(running.Steps[0].LastHeartbeatAt!.Value));
            await heartbeat.Locator("summary").ClickAsync();
            await Expect(heartbeat.Locator("pre")).ToContainTextAsync("\"file\": 17");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Signal_FromTheForm_RefusesBadJsonThenDeliversAndThePageFollowsTheRunToItsEnd()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-s", ExpenseRequest.Default);
        await host.WaitForAsync("expense-s", s => s.WaitingFor is not null);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.WorkflowUrl("expense-s"));

        await page.Locator("input[name=signal]").FillAsync("decision");
        await page.Locator("textarea[name=payload]").FillAsync("{\"approved\": true,");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send signal" }).ClickAsync();
        await Expect(page.Locator("[role=status]")).ToContainTextAsync("the payload is not valid JSON");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("RUNNING");

        await page.Locator("input[name=signal]").FillAsync("decision");
        await page.Locator("textarea[name=payload]").FillAsync("{\"approved\": true, \"by\": \"grace\"}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send signal" }).ClickAsync();

        await Expect(page.Locator("[role=status]")).ToContainTextAsync("Signal 'decision' delivered to workflow 'expense-s'");
        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        await Expect(page.Locator("#result")).ToContainTextAsync("approved by grace");
    }

    [Fact]
    public async Task LiveRefresh_WhileAWorkflowRuns_ThePageShowsItsEndWithoutReloading()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        await host.Client.StartAsync<ExpenseRequest, string>(ApprovalWorkflow.TypeName, "expense-l", ExpenseRequest.Default);
        await host.WaitForAsync("expense-l", s => s.WaitingFor is not null);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.WorkflowUrl("expense-l"));
        await Expect(page.Locator("h1 .live")).ToBeVisibleAsync();
        await page.EvaluateAsync("() => window.sameDocument = true");

        await host.Client.GetHandle<string>("expense-l").SignalAsync("decision", new ExpenseDecision(false, "linus"));

        await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
        await Expect(page.Locator("#result")).ToContainTextAsync("rejected");
        await Expect(page.Locator("h1 .live")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page updated in place, without a reload");
    }

    [Fact]
    public async Task Values_WithMarkup_AreShownAsTextAndNeverRun()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database, r => r
            .Add<string, string>("markup", async (ctx, _) =>
                await ctx.StepAsync("render", () => "<script>window.injected = 1</script><b>bold</b>"))
            .Add<string, string>("markup-failing", async (ctx, _) =>
                await ctx.StepAsync<string>("<i>step</i>", () => throw new InvalidOperationException("<img src=x onerror=\"window.injected = 2\">"), RetryPolicy.None)));
        const string markupId = "x<script>window.injected=3</script>";
        await host.Client.StartAsync<string, string>("markup", markupId, "<svg onload=\"window.injected = 4\">");
        await host.WaitForAsync(markupId, s => s.Status == WorkflowRunStatus.Completed);
        await host.Client.StartAsync<string, string>("markup-failing", "y\"><img src=x onerror=window.injected=5>", "x");
        await host.WaitForAsync("y\"><img src=x onerror=window.injected=5>", s => s.Status == WorkflowRunStatus.Failed);
        var page = await browser.NewPageAsync();

        await page.GotoAsync(host.Url);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = markupId })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = markupId }).ClickAsync();
        await Expect(page.Locator("h1")).ToContainTextAsync(markupId);
        await page.Locator("section.steps details summary").First.ClickAsync();
        await Expect(page.Locator("section.steps details pre").First).ToContainTextAsync("<script>window.injected = 1</script><b>bold</b>");
        await Expect(page.Locator("#input")).ToContainTextAsync("<svg onload=");
        Assert.Equal(1, await page.EvaluateAsync<int>("() => document.scripts.length"));
        Assert.Equal(0, await page.Locator("main b, main svg, main img").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.injected"));

        await page.GotoAsync(host.WorkflowUrl("y\"><img src=x onerror=window.injected=5>"));
        await Expect(page.Locator("#error")).ToContainTextAsync("<img src=x onerror=\"window.injected = 2\">");
        await Expect(page.Locator(".bar[data-kind=failed]")).ToContainTextAsync("<i>step</i>");
        Assert.Equal(0, await page.Locator("main img, main i").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.injected"));
    }

    [Fact]
    public async Task UnknownWorkflowAndBadFilters_AreAnswered404And400Pages()
    {
        await using var host = await DashboardHost.StartAsync(_folder.Database);
        var page = await browser.NewPageAsync();

        var missing = await page.GotoAsync(host.WorkflowUrl("no-such-workflow"));
        Assert.Equal(404, missing!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Workflow not found");
        await Expect(page.Locator("p.message")).ToHaveTextAsync("There is no workflow 'no-such-workflow' in this database.");

        var badStatus = await page.GotoAsync(host.Url + "?status=sleeping");
        Assert.Equal(400, badStatus!.Status);
        await Expect(page.Locator("p.message")).ToContainTextAsync("Unknown status 'sleeping'");

        var badCursor = await page.GotoAsync(host.Url + "?after=nonsense");
        Assert.Equal(400, badCursor!.Status);
        await Expect(page.Locator("p.message")).ToContainTextAsync("'nonsense' is not a cursor");
        await BrowserFixture.ScreenshotAsync(page, "bad-cursor");
    }

    [Fact]
    public async Task CliDashboard_WithAToken_RefusesABrowserWithoutItAndServesOneThatGaveItOnceWithWorkingActions()
    {
        var started = await CliProcess.RunAsync(_folder.Path, "start", "wf-1", "--db", _folder.Database);
        Assert.Equal(0, started.ExitCode);
        var waiting = await CliProcess.RunAsync(_folder.Path, "start", "exp-1", "--type", "approval", "--db", _folder.Database);
        Assert.Equal(3, waiting.ExitCode);
        using var process = CliProcess.Start(_folder.Path, "dashboard", "--db", _folder.Database, "--urls", "http://127.0.0.1:0", "--token", "open-sesame-42");
        try
        {
            var url = await ReadUrlAsync(process);
            var page = await browser.NewPageAsync();

            var refused = await page.GotoAsync(url);
            Assert.Equal(401, refused!.Status);
            await Expect(page.Locator("p.message")).ToContainTextAsync("An access token is required");
            Assert.Equal(401, (await page.GotoAsync(url + "?token=wrong-token"))!.Status);

            var opened = await page.GotoAsync(url + "?token=open-sesame-42");
            Assert.Equal(200, opened!.Status);
            Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
            await page.GetByRole(AriaRole.Link, new() { Name = "wf-1" }).ClickAsync();
            await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("COMPLETED");
            await Expect(page.Locator(".timeline .track .bar")).ToHaveCountAsync(4);

            // The command runs the engine on the file, so the actions work: cancel the approval waiting for its signal.
            await page.GotoAsync(url + "/workflow?id=exp-1");
            await Expect(page.Locator("dd.waiting")).ToContainTextAsync("waiting for signal 'decision'");
            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Expect(page.Locator("[role=status]")).ToContainTextAsync("Cancellation of workflow 'exp-1' requested");
            await Expect(page.Locator("h1 .badge")).ToHaveTextAsync("CANCELLED");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<string> ReadUrlAsync(System.Diagnostics.Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            var at = line.IndexOf("http://", StringComparison.Ordinal);
            if (at >= 0)
                return line[at..].Split(' ')[0];
        }
        throw new InvalidOperationException($"the dashboard command printed no address: {await process.StandardError.ReadToEndAsync()}");
    }

    private static Task<string[]> RowIdsAsync(IPage page) =>
        page.Locator("table.workflows tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.workflow)");

    private static Task<string[]> BarStepsAsync(IPage page, string lane) =>
        page.Locator($".lane[data-lane='{lane}'] .bar").EvaluateAllAsync<string[]>("bars => bars.map(b => b.dataset.step)");

    private static async Task<LocatorBoundingBoxResult> BoxAsync(IPage page, string step) =>
        (await page.Locator($".bar[data-step='{step}']").BoundingBoxAsync())!;

    public void Dispose() => _folder.Dispose();
}
