using System.Buffers;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;

namespace Durable.Actors.Journal;

/// <summary>
/// The stored shape of the events that carry a result, with the result as the JSON it is:
/// <c>SJ</c> <c>{"key":…,"result":&lt;json&gt;,"at":…,"type":…}</c> (a step completed),
/// <c>CJ</c> <c>{"completed":[&lt;SJ&gt;…],"started":&lt;SS&gt;}</c> (completions carried by a step's start) and
/// <c>RJ</c> <c>{"result":&lt;json&gt;,"at":…}</c> (a run completed). A result is written as it is (validated, not
/// escaped) and read back as the exact bytes stored, so a replay gets the text the step produced.
/// </summary>
internal static class RawJsonEvents
{
    /// <summary>A result longer than this is transcoded to UTF-8 in an array of its own, not in one rented from the shared pool (which threads keep).</summary>
    private const int PooledTranscodeLength = 2048;

    /// <summary>A thread's buffer is kept for its next event only while it is this small.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    public static byte[] Write(IJournalEvent e, JsonSerializerOptions json)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = _writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = json.Encoder });
        writer.Reset(buffer);
        try
        {
            switch (e)
            {
                case StepCompleted completed:
                    WriteCompleted(writer, completed);
                    break;
                case StepsCompletedThenStarted advanced:
                    writer.WriteStartObject();
                    writer.WriteStartArray("completed"u8);
                    foreach (var completed in advanced.Completed)
                        WriteCompleted(writer, completed);
                    writer.WriteEndArray();
                    writer.WritePropertyName("started"u8);
                    JsonSerializer.Serialize(writer, advanced.Started, json);
                    writer.WriteEndObject();
                    break;
                case RunCompleted run:
                    writer.WriteStartObject();
                    WriteResult(writer, run.ResultJson);
                    writer.WriteString("at"u8, run.At);
                    writer.WriteEndObject();
                    break;
                default:
                    throw new ArgumentException($"{e.GetType().Name} carries no result.", nameof(e));
            }
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > KeptBufferBytes)
                (_buffer, _writer) = (null, null);
            else
                buffer.ResetWrittenCount();
        }
    }

    private static void WriteCompleted(Utf8JsonWriter writer, StepCompleted completed)
    {
        writer.WriteStartObject();
        writer.WriteString("key"u8, completed.Key);
        WriteResult(writer, completed.ResultJson);
        writer.WriteString("at"u8, completed.At);
        if (completed.Type is { } type)
            writer.WriteString("type"u8, type);
        writer.WriteEndObject();
    }

    private static void WriteResult(Utf8JsonWriter writer, string resultJson)
    {
        writer.WritePropertyName("result"u8);
        // Validated: an event that does not parse would make its workflow unreadable.
        if (resultJson.Length <= PooledTranscodeLength)
            writer.WriteRawValue(resultJson);
        else
            writer.WriteRawValue(Encoding.UTF8.GetBytes(resultJson));
    }

    public static StepCompleted ReadStepCompleted(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes);
        reader.Read();
        return ReadCompleted(ref reader, bytes);
    }

    public static StepsCompletedThenStarted ReadCompletedThenStarted(byte[] bytes, JsonSerializerOptions json)
    {
        var reader = new Utf8JsonReader(bytes);
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, "CJ");
        List<StepCompleted>? completed = null;
        StepStarted? started = null;
        while (NextProperty(ref reader, "CJ"))
        {
            if (reader.ValueTextEquals("completed"u8))
            {
                Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray, "CJ");
                completed = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    completed.Add(ReadCompleted(ref reader, bytes));
            }
            else if (reader.ValueTextEquals("started"u8))
            {
                reader.Read();
                started = JsonSerializer.Deserialize<StepStarted>(ref reader, json);
            }
            else
                SkipValue(ref reader);
        }
        Expect(completed is not null && started is not null, "CJ");
        return new StepsCompletedThenStarted(completed!, started!);
    }

    public static RunCompleted ReadRunCompleted(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes);
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, "RJ");
        string? result = null;
        DateTimeOffset? at = null;
        while (NextProperty(ref reader, "RJ"))
        {
            if (reader.ValueTextEquals("result"u8))
                result = ReadRaw(ref reader, bytes);
            else if (reader.ValueTextEquals("at"u8) && reader.Read())
                at = reader.GetDateTimeOffset();
            else
                SkipValue(ref reader);
        }
        Expect(result is not null && at is not null, "RJ");
        return new RunCompleted(result!, at!.Value);
    }

    /// <summary>An <c>SJ</c> object, the reader on its start; leaves the reader on its end.</summary>
    private static StepCompleted ReadCompleted(ref Utf8JsonReader reader, byte[] bytes)
    {
        Expect(reader.TokenType == JsonTokenType.StartObject, "SJ");
        string? key = null, result = null, type = null;
        DateTimeOffset? at = null;
        while (NextProperty(ref reader, "SJ"))
        {
            if (reader.ValueTextEquals("key"u8) && reader.Read())
                key = reader.GetString();
            else if (reader.ValueTextEquals("result"u8))
                result = ReadRaw(ref reader, bytes);
            else if (reader.ValueTextEquals("at"u8) && reader.Read())
                at = reader.GetDateTimeOffset();
            else if (reader.ValueTextEquals("type"u8) && reader.Read())
                type = reader.GetString();
            else
                SkipValue(ref reader);
        }
        Expect(key is not null && result is not null && at is not null, "SJ");
        return new StepCompleted(key!, result!, at!.Value, type);
    }

    /// <summary>Moves to the next property name of the object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader, string manifest)
    {
        Expect(reader.Read(), manifest);
        if (reader.TokenType == JsonTokenType.EndObject)
            return false;
        Expect(reader.TokenType == JsonTokenType.PropertyName, manifest);
        return true;
    }

    /// <summary>The value after the property name the reader is on, as the exact text stored.</summary>
    private static string ReadRaw(ref Utf8JsonReader reader, byte[] bytes)
    {
        reader.Read();
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return Encoding.UTF8.GetString(bytes, start, (int)reader.BytesConsumed - start);
    }

    /// <summary>Skips the value of a property this version does not know (a later one may add some).</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static void Expect(bool condition, string manifest)
    {
        if (!condition)
            throw new SerializationException($"A '{manifest}' journal event is not in its stored shape.");
    }
}
