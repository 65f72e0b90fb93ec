using System.Text.RegularExpressions;
using Xunit;

namespace Durable.Actors.Dashboard.Tests;

/// <summary>The workflow page lists its durable waits: what each waits for, how it ended, what it received.</summary>
public sealed partial class WorkflowPageWaitsSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private static readonly PageContext Page = new("/dash", "nonce", "token", ReadOnly: true);

    [Fact]
    public void Workflow_WithATimerASignalAndAChild_ShowsEachWaitAtItsKey_WithItsOutcome()
    {
        var detail = new WorkflowDetail(
            new WorkflowStatus("order-1", "checkout", WorkflowRunStatus.Running, T0, null, null, null,
                [new StepRecord("order-1:1", "reserve", StepStatus.Completed, 1, T0, T0.AddMilliseconds(5), "\"r\"", null, [])]),
            "null", [T0], null)
        {
            Waits =
            [
                new WaitRecord("order-1:2", WaitKind.Timer, null, WaitStatus.Fired, T0, T0.AddMinutes(1), T0.AddMinutes(1), null),
                new WaitRecord("order-1:3", WaitKind.Signal, "approve<it>", WaitStatus.Received, T0.AddMinutes(1), null, T0.AddMinutes(2), """{"by":"grace"}"""),
                new WaitRecord("order-1:4", WaitKind.Child, "order-1/ship", WaitStatus.Waiting, T0.AddMinutes(2), null, null, null),
            ],
        };

        var html = Pages.Workflow(Page, detail, T0.AddMinutes(3), outcome: null);

        Assert.Equal(
        [
            "order-1:2 | timer | FIRED | 2026-12-07 09:00:00.000Z | 2026-12-07 09:01:00.000Z | 2026-12-07 09:01:00.000Z | ",
            "order-1:3 | signal approve<it> | RECEIVED | 2026-12-07 09:01:00.000Z |  | 2026-12-07 09:02:00.000Z | received { \"by\": \"grace\" }",
            "order-1:4 | child order-1/ship | WAITING | 2026-12-07 09:02:00.000Z |  |  | ",
        ], Rows(Section(html)));
        Assert.Contains("<a href=\"/dash/workflow?id=order-1%2Fship\">order-1/ship</a>", Section(html), StringComparison.Ordinal);
    }

    [Fact]
    public void Workflow_WithoutWaits_HasNoWaitsSection()
    {
        var detail = new WorkflowDetail(new WorkflowStatus("order-2", "checkout", WorkflowRunStatus.Running, T0, null, null, null, []), "null", [T0], null);

        Assert.DoesNotContain("<section class=\"waits\">", Pages.Workflow(Page, detail, T0, outcome: null), StringComparison.Ordinal);
    }

    private static string Section(string html)
    {
        var start = html.IndexOf("<section class=\"waits\">", StringComparison.Ordinal);
        Assert.True(start >= 0, "the page has a waits section");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    /// <summary>Each body row's cells as text, " | "-separated (tags dropped, entities decoded, white space folded).</summary>
    private static string[] Rows(string section) => BodyRow().Matches(section[section.IndexOf("<tbody>", StringComparison.Ordinal)..])
        .Select(row => string.Join(" | ", Cell().Matches(row.Value).Select(c => Space().Replace(System.Net.WebUtility.HtmlDecode(Tag().Replace(c.Groups[1].Value, " ")), " ").Trim())))
        .ToArray();

    [GeneratedRegex("<tr[^>]*>.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex BodyRow();

    [GeneratedRegex("<td>(.*?)</td>", RegexOptions.Singleline)]
    private static partial Regex Cell();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();
}
