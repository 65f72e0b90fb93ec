using System.Runtime.CompilerServices;
using System.Reflection;
using System.Text.Json;
using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

/// <summary>A registered workflow type with its input and result types erased to JSON.</summary>
internal interface IWorkflowDefinition
{
    /// <summary>Null when <paramref name="inputJson"/> reads as the workflow's input type, else what is wrong with it.</summary>
    string? ValidateInput(string inputJson, JsonSerializerOptions json);

    Task<string> RunAsync(IWorkflowContext context, string inputJson, JsonSerializerOptions json);
}

/// <summary>A workflow instance for one run, and the dependency-injection scope to dispose when the run ends (if any).</summary>
internal readonly record struct WorkflowInstance<TInput, TResult>(IWorkflow<TInput, TResult> Workflow, IDisposable? Scope);

internal sealed class WorkflowDefinition<TInput, TResult>(Func<WorkflowInstance<TInput, TResult>> create) : IWorkflowDefinition
{
    private readonly Lazy<bool> _acceptsNull = new(() => AcceptsNull(create));

    public string? ValidateInput(string inputJson, JsonSerializerOptions json)
    {
        TInput? input;
        try
        {
            input = JsonSerializer.Deserialize<TInput>(inputJson, Strict(json));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return $"input does not read as {typeof(TInput).Name}: {e.Message}";
        }
        return input is null && !_acceptsNull.Value
            ? $"input is missing (JSON null): the workflow's input {TypeNames.Of(typeof(TInput))} is not nullable"
            : null;
    }

    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictOptions = [];

    /// <summary>
    /// The registry's options, refusing what the input type declares it cannot hold: a missing constructor parameter
    /// of a record, null in a non-nullable member (missing <c>required</c> members are refused by any options).
    /// </summary>
    private static JsonSerializerOptions Strict(JsonSerializerOptions json) => StrictOptions.GetValue(json, static o =>
        new JsonSerializerOptions(o) { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true });

    /// <summary>
    /// Whether the workflow declares its input nullable: a <see cref="Nullable{T}"/> value type, or a reference type
    /// whose <c>RunAsync</c> parameter is annotated <c>?</c>. A parameter typed by a type parameter of a generic workflow
    /// class has no annotation to read at run time: it accepts null.
    /// </summary>
    private static bool AcceptsNull(Func<WorkflowInstance<TInput, TResult>> create)
    {
        if (typeof(TInput).IsValueType)
            return Nullable.GetUnderlyingType(typeof(TInput)) is not null;
        try
        {
            var instance = create();
            using var scope = instance.Scope;
            var map = instance.Workflow.GetType().GetInterfaceMap(typeof(IWorkflow<TInput, TResult>));
            var method = map.TargetMethods[Array.FindIndex(map.InterfaceMethods, m => m.Name == nameof(IWorkflow<TInput, TResult>.RunAsync))];
            if (method.DeclaringType is { IsGenericType: true } declaring
                && MethodBase.GetMethodFromHandle(method.MethodHandle, declaring.GetGenericTypeDefinition().TypeHandle) is { } open
                && open.GetParameters()[1].ParameterType.IsGenericParameter)
                return true;
            return new NullabilityInfoContext().Create(method.GetParameters()[1]).ReadState != NullabilityState.NotNull;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The factory throws, or reflection cannot tell: the run itself will say what is wrong.
            return true;
        }
    }

    public async Task<string> RunAsync(IWorkflowContext context, string inputJson, JsonSerializerOptions json)
    {
        var input = ValueJson.Deserialize<TInput>(inputJson, json)!;
        var instance = create();
        try
        {
            var result = await instance.Workflow.RunAsync(context, input).ConfigureAwait(false);
            return ValueJson.Serialize(result, json);
        }
        finally
        {
            instance.Scope?.Dispose();
        }
    }
}
