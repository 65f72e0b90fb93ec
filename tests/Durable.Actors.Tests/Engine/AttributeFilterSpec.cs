using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>The conditions the CLI's <c>--where</c> and the dashboard's field read.</summary>
public sealed class AttributeFilterSpec
{
    [Theory]
    [InlineData("customer=acme", "customer", AttributeComparison.Equal, "acme")]
    [InlineData("zip=\"01234\"", "zip", AttributeComparison.Equal, "01234")]
    [InlineData("note=\"a=b c\"", "note", AttributeComparison.Equal, "a=b c")]
    [InlineData("amount>=100", "amount", AttributeComparison.GreaterOrEqual, 100.0)]
    [InlineData("amount<2.5e3", "amount", AttributeComparison.Less, 2500.0)]
    [InlineData("amount>-1", "amount", AttributeComparison.Greater, -1.0)]
    [InlineData("vip=true", "vip", AttributeComparison.Equal, true)]
    [InlineData("label=\"\"", "label", AttributeComparison.Equal, "")]
    public void Parse_ReadsNameComparisonAndATypedValue(string text, string name, AttributeComparison comparison, object value)
    {
        var filter = AttributeFilter.Parse(text);

        Assert.Equal((name, comparison, value), (filter.Name, filter.Comparison, filter.Value));
        Assert.Equal(filter, AttributeFilter.Parse(filter.ToString()));
    }

    [Fact]
    public void Parse_ReadsAnIsoTimeAsUtc()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), AttributeFilter.Parse("due<=2026-12-01").Value);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 7, 0, 0, TimeSpan.Zero), AttributeFilter.Parse("due>2026-12-01T08:00:00+01:00").Value);
    }

    [Theory]
    [InlineData("customer", "'customer' is not an attribute filter: give name=value, name<value, name<=value, name>value or name>=value.")]
    [InlineData("total>", "'total>' is not an attribute filter: it gives no value (\"\" is an empty text).")]
    [InlineData("=acme", "'=acme' is not an attribute filter: give name=value")]
    [InlineData("1st=a", "'1st=a' is not an attribute filter: '1st' is not an attribute name")]
    [InlineData("vip>true", "'vip>true' is not an attribute filter: A filter of attribute 'vip' orders a bool; a bool attribute only equals.")]
    public void Parse_RefusesWhatIsNoConditionNamingIt(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AttributeFilter.Parse(text));
        Assert.StartsWith(expected, e.Message);
    }
}
