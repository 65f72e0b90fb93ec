using System.Text.Json;
using Durable.Actors.Tests.Engine;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// Custom attributes through the CLI: the <c>import</c> sample sets <c>rows</c> and <c>resumed</c>; <c>status</c> shows
/// them, <c>list --where</c> and <c>purge --where</c> filter on them, and a filter that is not one changes nothing.
/// </summary>
public sealed class AttributesSpec
{
    private static async Task<string[]> ListAsync(string folder, params string[] where)
    {
        var run = await TestSupport.Cli.RunAsync(folder, ["list", "--json", .. where.SelectMany(w => new[] { "--where", w })]);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(string.Join('\n', run.StdoutLines));
        return json.RootElement.EnumerateArray().Select(w => w.GetProperty("workflowId").GetString()!).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task StatusShowsThem_ListAndPurgeFilterOnThem()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "imp-a", "--type", "import", "--input", """{"rows": 3}""")).ExitCode);
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "imp-b", "--type", "import", "--input", """{"rows": 5}""")).ExitCode);

        var status = await TestSupport.Cli.RunAsync(folder.Path, "status", "imp-b");
        var json = await TestSupport.Cli.RunAsync(folder.Path, "status", "imp-b", "--json");

        Assert.EndsWith("; attributes resumed=false rows=5", Assert.Single(status.StdoutLines));
        using (var document = JsonDocument.Parse(string.Join('\n', json.StdoutLines)))
        {
            var attributes = document.RootElement.GetProperty("attributes");
            Assert.Equal((false, 5, 2), (attributes.GetProperty("resumed").GetBoolean(), attributes.GetProperty("rows").GetInt32(), attributes.EnumerateObject().Count()));
        }
        Assert.Equal(["imp-b"], await ListAsync(folder.Path, "rows>=4"));
        Assert.Equal(["imp-a"], await ListAsync(folder.Path, "rows=3", "resumed=false"));
        Assert.Equal(["imp-a", "imp-b"], await ListAsync(folder.Path, "rows<=5"));
        Assert.Empty(await ListAsync(folder.Path, "rows=\"3\""));

        var purged = await TestSupport.Cli.RunAsync(folder.Path, "purge", "--where", "rows<4");

        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.Equal(["purged imp-a", "purged 1 workflow"], purged.StdoutLines);
        Assert.Equal(["imp-b"], WorkflowIndexSpec.IndexRows(folder.Database).Select(r => r.WorkflowId));
    }

    [Theory]
    [InlineData("error: --where 'rows' is not an attribute filter: give name=value, name<value, name<=value, name>value or name>=value.", "list", "--where", "rows")]
    [InlineData("error: --where '1x=2' is not an attribute filter: '1x' is not an attribute name", "purge", "--where", "1x=2")]
    [InlineData("error: --where 'resumed<true' is not an attribute filter: A filter of attribute 'resumed' orders a bool", "purge", "--where", "resumed<true")]
    public async Task BadFilter_ExitsTwoWithOneLineAndChangesNothing(string expected, params string[] args)
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await TestSupport.Cli.RunAsync(folder.Path, "start", "imp-a", "--type", "import", "--input", """{"rows": 3}""")).ExitCode);
        var before = TestSupport.Cli.Dump(folder.Database);

        var run = await TestSupport.Cli.RunAsync(folder.Path, args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith(expected, Assert.Single(run.StderrLines));
        Assert.Equal(before, TestSupport.Cli.Dump(folder.Database));
    }
}
