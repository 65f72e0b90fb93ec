using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Durable.Actors.Journal;

/// <summary>
/// A workflow's values (step results, recorded values) to the JSON the journal records, and back, without the
/// runtime's shared array pools for large ones: System.Text.Json's string entry points rent their buffers there (2 MiB
/// to escape a 100,000-character string), and the pool keeps them per thread long after the workflows that used them
/// stopped. Here the JSON is written into a buffer kept per thread (let go when it grew large), a large string is
/// escaped into an array of its own, and a large JSON text is read from UTF-8 bytes of its own; what a workflow's
/// values needed goes with it. Small values take System.Text.Json's usual paths.
/// </summary>
internal static class ValueJson
{
    /// <summary>Strings and JSON texts longer than this are handled with arrays of their own.</summary>
    private const int Large = 16 * 1024;

    /// <summary>A per-thread buffer larger than this is let go after use.</summary>
    private const int KeptBuffer = 64 * 1024;

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer, JsonSerializerOptions For)? _perThread;

    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> WithLargeStrings = new();

    /// <summary>The JSON of <paramref name="value"/> as <paramref name="options"/> write it.</summary>
    public static string Serialize<T>(T value, JsonSerializerOptions options)
    {
        var withLargeStrings = Options(options);
        var (buffer, writer, made) = _perThread ?? (new ArrayBufferWriter<byte>(256), null!, null!);
        _perThread = null;
        // The writer writes as the options say (encoder, indentation), as the serializer's own would.
        if (!ReferenceEquals(made, withLargeStrings))
            writer = new Utf8JsonWriter(Stream.Null, WriterOptions(withLargeStrings));
        try
        {
            writer.Reset(buffer);
            JsonSerializer.Serialize(writer, value, withLargeStrings);
            writer.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            writer.Reset(Stream.Null);
            buffer.ResetWrittenCount();
            if (buffer.Capacity <= KeptBuffer)
                _perThread = (buffer, writer, withLargeStrings);
        }
    }

    private static JsonWriterOptions WriterOptions(JsonSerializerOptions options) => new()
    {
        Encoder = options.Encoder,
        Indented = options.WriteIndented,
        IndentCharacter = options.IndentCharacter,
        IndentSize = options.IndentSize,
        NewLine = options.NewLine,
        MaxDepth = options.MaxDepth == 0 ? 64 : options.MaxDepth,
        SkipValidation = true,
    };

    /// <summary>The value <paramref name="json"/> holds, read as <paramref name="options"/> read it.</summary>
    /// <remarks>A small text holds no large string: it is read the usual way.</remarks>
    public static T? Deserialize<T>(string json, JsonSerializerOptions options) =>
        json.Length <= Large
            ? JsonSerializer.Deserialize<T>(json, options)
            : JsonSerializer.Deserialize<T>(Encoding.UTF8.GetBytes(json), Options(options));

    /// <summary><paramref name="options"/> with <see cref="LargeStringConverter"/> after the user's converters, made once per options.</summary>
    private static JsonSerializerOptions Options(JsonSerializerOptions options)
    {
        // A host uses one options object: the last pair answers without the table.
        if (_last is { } last && ReferenceEquals(last.Source, options))
            return last.Derived;
        var derived = WithLargeStrings.GetValue(options, static o => new JsonSerializerOptions(o) { Converters = { new LargeStringConverter() } });
        _last = new OptionsPair(options, derived);
        return derived;
    }

    private sealed record OptionsPair(JsonSerializerOptions Source, JsonSerializerOptions Derived);

    private static OptionsPair? _last;

    /// <summary>
    /// Strings as System.Text.Json writes and reads them, except that a large one is escaped (with the options' encoder)
    /// and unescaped into arrays of its own.
    /// </summary>
    private sealed class LargeStringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String || !reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length <= Large)
                return reader.GetString();
            var unescaped = new byte[reader.ValueSpan.Length];
            var length = reader.CopyString(unescaped);
            return Encoding.UTF8.GetString(unescaped, 0, length);
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            if (value.Length <= Large)
            {
                writer.WriteStringValue(value);
                return;
            }
            var encoder = options.Encoder ?? JavaScriptEncoder.Default;
            var escaped = new char[encoder.MaxOutputCharactersPerInputCharacter * value.Length + 2];
            escaped[0] = '"';
            if (encoder.Encode(value, escaped.AsSpan(1), out _, out var written) != OperationStatus.Done)
                throw new JsonException("A string could not be escaped for JSON.");
            escaped[written + 1] = '"';
            writer.WriteRawValue(Encoding.UTF8.GetBytes(escaped, 0, written + 2), skipInputValidation: true);
        }

        public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString()!;

        public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WritePropertyName(value);
    }
}
