using System.Text.Json;

namespace Durable.Actors.Runtime;

/// <summary>A registered workflow type with its input and result types erased to JSON.</summary>
internal interface IWorkflowDefinition
{
    /// <summary>Null when <paramref name="inputJson"/> reads as the workflow's input type, else what is wrong with it.</summary>
    string? ValidateInput(string inputJson, JsonSerializerOptions json);

    Task<string> RunAsync(IWorkflowContext context, string inputJson, JsonSerializerOptions json);
}

internal sealed class WorkflowDefinition<TInput, TResult>(Func<IWorkflow<TInput, TResult>> factory) : IWorkflowDefinition
{
    public string? ValidateInput(string inputJson, JsonSerializerOptions json)
    {
        try
        {
            JsonSerializer.Deserialize<TInput>(inputJson, json);
            return null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return $"input does not read as {typeof(TInput).Name}: {e.Message}";
        }
    }

    public async Task<string> RunAsync(IWorkflowContext context, string inputJson, JsonSerializerOptions json)
    {
        var input = JsonSerializer.Deserialize<TInput>(inputJson, json)!;
        var result = await factory().RunAsync(context, input).ConfigureAwait(false);
        return JsonSerializer.Serialize(result, json);
    }
}
