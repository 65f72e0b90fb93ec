using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Durable.Actors.Journal;

/// <summary>The kinds of value a workflow attribute holds; the stored text of each is its letter.</summary>
internal enum AttributeKind
{
    Text = 's',
    Number = 'n',
    Bool = 'b',
    Time = 't',
}

/// <summary>
/// One attribute's value as the index stores it: text and times in <see cref="Text"/> (a time as UTC in a fixed-width
/// round-trip format, so that text order is time order), numbers and booleans (1 or 0) in <see cref="Number"/>.
/// </summary>
internal readonly record struct AttributeValue(AttributeKind Kind, string? Text, double Number)
{
    /// <summary>The stored text of <see cref="Kind"/>.</summary>
    public string KindText => ((char)Kind).ToString();

    /// <summary>Whether the value is kept in the text column (else in the number column).</summary>
    public bool InText => Kind is AttributeKind.Text or AttributeKind.Time;

    /// <summary>The value as the public API gives it: string, double, bool or DateTimeOffset.</summary>
    public object ToObject() => Kind switch
    {
        AttributeKind.Text => Text!,
        AttributeKind.Number => Number,
        AttributeKind.Bool => Number != 0,
        _ => DateTimeOffset.ParseExact(Text!, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
    };

    public const string TimeFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";

    public static AttributeValue Of(string text) => new(AttributeKind.Text, text, 0);

    public static AttributeValue Of(double number) => new(AttributeKind.Number, null, number);

    public static AttributeValue Of(bool value) => new(AttributeKind.Bool, null, value ? 1 : 0);

    public static AttributeValue Of(DateTimeOffset time) =>
        new(AttributeKind.Time, time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture), 0);

    /// <summary>
    /// The value of a .NET value: a string, a bool, a DateTimeOffset or DateTime (a DateTime of unspecified kind is
    /// taken as UTC), or a number of any built-in numeric type (kept as a double); null for another type.
    /// </summary>
    public static AttributeValue? From(object value) => value switch
    {
        string s => Of(s),
        bool b => Of(b),
        DateTimeOffset t => Of(t),
        DateTime d => Of(d.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(d, TimeSpan.Zero) : new DateTimeOffset(d)),
        byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal => Of(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        _ => null,
    };
}

/// <summary>
/// What one <see cref="IWorkflowContext.SetAttributesAsync"/> sets: each name with its new value, or null for an
/// attribute removed. Recorded as a value of this type (its step id <see cref="StepId"/>, its declared type
/// <see cref="TypeName"/>, which the index's fold recognises in a <see cref="StepCompleted"/>), in a JSON of its own
/// (<c>{"name":{"n":3}, "gone":null}</c>) that no serializer option changes.
/// </summary>
[JsonConverter(typeof(AttributeChangesConverter))]
internal sealed class AttributeChanges(IReadOnlyList<KeyValuePair<string, AttributeValue?>> changes)
{
    public const string StepId = "durable.attributes";

    /// <summary>The declared type of a recorded set of attributes, as <see cref="StepCompleted.Type"/> holds it.</summary>
    public static string TypeName { get; } = TypeNames.For<AttributeChanges>();

    /// <summary>The most attributes one call sets.</summary>
    public const int MaxPerCall = 32;

    /// <summary>The longest attribute name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The longest text value.</summary>
    public const int MaxTextLength = 1000;

    private static readonly Regex Name = new("^[A-Za-z_][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant);

    public IReadOnlyList<KeyValuePair<string, AttributeValue?>> Changes { get; } = changes;

    /// <summary>The changes of <paramref name="attributes"/>, checked; throws <see cref="ArgumentException"/> naming what is out of bounds.</summary>
    public static AttributeChanges From(IReadOnlyDictionary<string, object?> attributes, string workflowId)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        if (attributes.Count > MaxPerCall)
            throw Refused($"{attributes.Count} attributes of workflow '{workflowId}' are set at once; at most {MaxPerCall} are.");
        var changes = new List<KeyValuePair<string, AttributeValue?>>(attributes.Count);
        foreach (var (name, value) in attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            CheckName(name);
            AttributeValue? stored = null;
            if (value is not null)
            {
                stored = AttributeValue.From(value)
                    ?? throw Refused($"Attribute '{name}' of workflow '{workflowId}' is a {value.GetType().Name}; an attribute is a string, a number, a bool or a time.");
                if (stored.Value.Kind == AttributeKind.Number && !double.IsFinite(stored.Value.Number))
                    throw Refused($"Attribute '{name}' of workflow '{workflowId}' is {stored.Value.Number.ToString(CultureInfo.InvariantCulture)}; a number attribute must be finite.");
                if (stored.Value.Kind == AttributeKind.Text && stored.Value.Text!.Length > MaxTextLength)
                    throw Refused($"Attribute '{name}' of workflow '{workflowId}' is {stored.Value.Text.Length:N0} characters long; at most {MaxTextLength:N0} are kept.");
            }
            changes.Add(new(name, stored));
        }
        return new AttributeChanges(changes);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="name"/> is no attribute name.</summary>
    public static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !Name.IsMatch(name))
            throw Refused($"'{name}' is not an attribute name: 1 to {MaxNameLength} letters, digits, '_', '.' or '-', starting with a letter or '_'.");
    }

    private static ArgumentException Refused(string message) => new(message);

    /// <summary>The changes recorded in <paramref name="completed"/>; null when it records none (another value or step).</summary>
    public static AttributeChanges? Recorded(StepCompleted completed) =>
        completed.Type == TypeName ? JsonSerializer.Deserialize<AttributeChanges>(completed.ResultJson) : null;

    /// <summary>Applies the changes to <paramref name="attributes"/>: a new value replaces the old, null removes it.</summary>
    public void ApplyTo(IDictionary<string, AttributeValue> attributes)
    {
        foreach (var (name, value) in Changes)
        {
            if (value is { } v)
                attributes[name] = v;
            else
                attributes.Remove(name);
        }
    }
}

/// <summary>The JSON of <see cref="AttributeChanges"/>: an object of names, each a one-member object of its kind's letter, or null.</summary>
internal sealed class AttributeChangesConverter : JsonConverter<AttributeChanges>
{
    public override AttributeChanges Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("Recorded attributes are a JSON object.");
        var changes = new List<KeyValuePair<string, AttributeValue?>>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                changes.Add(new(name, null));
                continue;
            }
            reader.Read();
            var kind = (AttributeKind)reader.GetString()![0];
            reader.Read();
            var value = kind switch
            {
                AttributeKind.Text or AttributeKind.Time => new AttributeValue(kind, reader.GetString(), 0),
                AttributeKind.Bool => AttributeValue.Of(reader.GetBoolean()),
                _ => AttributeValue.Of(reader.GetDouble()),
            };
            reader.Read();
            changes.Add(new(name, value));
        }
        return new AttributeChanges(changes);
    }

    public override void Write(Utf8JsonWriter writer, AttributeChanges value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, change) in value.Changes)
        {
            if (change is not { } v)
            {
                writer.WriteNull(name);
                continue;
            }
            writer.WriteStartObject(name);
            switch (v.Kind)
            {
                case AttributeKind.Text or AttributeKind.Time:
                    writer.WriteString(v.KindText, v.Text);
                    break;
                case AttributeKind.Bool:
                    writer.WriteBoolean(v.KindText, v.Number != 0);
                    break;
                default:
                    writer.WriteNumber(v.KindText, v.Number);
                    break;
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}
