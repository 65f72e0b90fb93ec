using System.Globalization;
using Durable.Actors.Journal;

namespace Durable.Actors;

/// <summary>How an <see cref="AttributeFilter"/> compares a workflow's attribute with its value.</summary>
public enum AttributeComparison
{
    /// <summary><c>name=value</c>.</summary>
    Equal,

    /// <summary><c>name&lt;value</c>.</summary>
    Less,

    /// <summary><c>name&lt;=value</c>.</summary>
    LessOrEqual,

    /// <summary><c>name&gt;value</c>.</summary>
    Greater,

    /// <summary><c>name&gt;=value</c>.</summary>
    GreaterOrEqual,
}

/// <summary>
/// A condition on a custom attribute (<see cref="IWorkflowContext.SetAttributesAsync"/>) that a listed or purged
/// workflow must meet (<see cref="WorkflowQuery.Attributes"/>): the workflow has the attribute, of the value's kind,
/// and it compares so. Texts compare by code point, numbers as numbers, times as instants; a bool only equals.
/// </summary>
public sealed record AttributeFilter
{
    /// <summary>A condition that attribute <paramref name="name"/> compares with <paramref name="value"/> so.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="comparison">How it compares.</param>
    /// <param name="value">A string, a number, a bool, a <see cref="DateTimeOffset"/> or a <see cref="DateTime"/>.</param>
    /// <exception cref="ArgumentException">The name is no attribute name, the value of no attribute kind, or a bool compared by order.</exception>
    public AttributeFilter(string name, AttributeComparison comparison, object value)
    {
        AttributeChanges.CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!Enum.IsDefined(comparison))
            throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "Not a comparison.");
        var stored = AttributeValue.From(value)
            ?? throw new ArgumentException($"A filter of attribute '{name}' compares with a {value.GetType().Name}; an attribute is a string, a number, a bool or a time.");
        if (stored.Kind == AttributeKind.Number && !double.IsFinite(stored.Number))
            throw new ArgumentException($"A filter of attribute '{name}' compares with a number that is not finite.");
        if (stored.Kind == AttributeKind.Bool && comparison != AttributeComparison.Equal)
            throw new ArgumentException($"A filter of attribute '{name}' orders a bool; a bool attribute only equals.");
        Name = name;
        Comparison = comparison;
        Stored = stored;
        Value = stored.ToObject();
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>How the attribute compares with <see cref="Value"/>.</summary>
    public AttributeComparison Comparison { get; }

    /// <summary>The value: a string, a double, a bool or a <see cref="DateTimeOffset"/> (UTC).</summary>
    public object Value { get; }

    internal AttributeValue Stored { get; }

    /// <summary>A condition that attribute <paramref name="name"/> equals <paramref name="value"/>.</summary>
    public static AttributeFilter Equal(string name, object value) => new(name, AttributeComparison.Equal, value);

    /// <summary>
    /// Reads a condition as the CLI and the dashboard take it: <c>name=value</c>, <c>name&lt;value</c>,
    /// <c>name&lt;=value</c>, <c>name&gt;value</c> or <c>name&gt;=value</c>. A value in double quotes is a text;
    /// otherwise <c>true</c> and <c>false</c> are bools, a number is a number, an ISO 8601 time (<c>2026-12-07</c>,
    /// <c>2026-12-07T08:00:00Z</c>; UTC unless it gives an offset) is a time, and anything else is a text.
    /// </summary>
    /// <exception cref="FormatException">The text is no condition; the message names what is wrong.</exception>
    public static AttributeFilter Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOfAny(['<', '>', '=']);
        if (at <= 0)
            throw new FormatException($"'{text}' is not an attribute filter: give name=value, name<value, name<=value, name>value or name>=value.");
        var name = text[..at];
        var (comparison, length) = text[at..] switch
        {
            var rest when rest.StartsWith("<=", StringComparison.Ordinal) => (AttributeComparison.LessOrEqual, 2),
            var rest when rest.StartsWith(">=", StringComparison.Ordinal) => (AttributeComparison.GreaterOrEqual, 2),
            var rest when rest[0] == '<' => (AttributeComparison.Less, 1),
            var rest when rest[0] == '>' => (AttributeComparison.Greater, 1),
            _ => (AttributeComparison.Equal, 1),
        };
        if (at + length == text.Length)
            throw new FormatException($"'{text}' is not an attribute filter: it gives no value (\"\" is an empty text).");
        try
        {
            return new AttributeFilter(name, comparison, ParseValue(text[(at + length)..]));
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"'{text}' is not an attribute filter: {e.Message}", e);
        }
    }

    private static object ParseValue(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            return value[1..^1];
        if (value is "true" or "false")
            return value == "true";
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            return number;
        if (value.Length >= 10 && char.IsAsciiDigit(value[0]) && value[4] == '-'
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return time;
        return value;
    }

    /// <summary>Whether a workflow of <paramref name="attributes"/> meets the condition (what the index's query asks, in memory).</summary>
    internal bool Matches(IReadOnlyDictionary<string, AttributeValue> attributes)
    {
        if (!attributes.TryGetValue(Name, out var value) || value.Kind != Stored.Kind)
            return false;
        var order = value.InText ? string.CompareOrdinal(value.Text, Stored.Text) : value.Number.CompareTo(Stored.Number);
        return Comparison switch
        {
            AttributeComparison.Equal => order == 0,
            AttributeComparison.Less => order < 0,
            AttributeComparison.LessOrEqual => order <= 0,
            AttributeComparison.Greater => order > 0,
            _ => order >= 0,
        };
    }

    /// <summary>The SQL operator of <see cref="Comparison"/>.</summary>
    internal string SqlOperator => Comparison switch
    {
        AttributeComparison.Equal => "=",
        AttributeComparison.Less => "<",
        AttributeComparison.LessOrEqual => "<=",
        AttributeComparison.Greater => ">",
        _ => ">=",
    };

    /// <summary>The condition as <see cref="Parse"/> reads it.</summary>
    public override string ToString()
    {
        var value = Stored.Kind switch
        {
            AttributeKind.Text => "\"" + Stored.Text + "\"",
            AttributeKind.Bool => Stored.Number != 0 ? "true" : "false",
            AttributeKind.Number => Stored.Number.ToString("R", CultureInfo.InvariantCulture),
            _ => Stored.Text!,
        };
        return Name + SqlOperator + value;
    }
}
