using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Durable.Actors.Cli.Output;

/// <summary>Every JSON the CLI prints (<c>--json</c> of status, history, list and check) goes through these options.</summary>
internal static class CliJson
{
    /// <summary>
    /// camelCase names, indented, and enums by name (the check's verdicts: <c>"Incompatible"</c>), so that scripts need no
    /// table of numbers; a workflow's status as every command prints it (<c>"RUNNING"</c>). Text is escaped for JSON
    /// only, not for HTML: people read it, and a reason such as <c>Ada's + Bob's</c> stays as written instead of
    /// <c>Ada\u0027s \u002B Bob\u0027s</c> (nothing the CLI prints is embedded in a web page).
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new WorkflowStatusConverter(), new JsonStringEnumConverter() },
    };

    public static void Print<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Writes <see cref="WorkflowRunStatus"/> as <see cref="Text.WorkflowStatusName"/> does; the CLI reads none.</summary>
    private sealed class WorkflowStatusConverter : JsonConverter<WorkflowRunStatus>
    {
        public override WorkflowRunStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("The CLI writes workflow statuses, it does not read them.");

        public override void Write(Utf8JsonWriter writer, WorkflowRunStatus value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Text.WorkflowStatusName(value));
    }
}
