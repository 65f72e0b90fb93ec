using System.Text.Json;

namespace Durable.Actors.Testing;

/// <summary>Something the crash test sends to the workflow while it runs: a signal, or its cancellation.</summary>
/// <remarks>
/// Sent one at a time, in order, each once the host is quiet (the workflow waits), and each acknowledged before the
/// next; after a crash, what the crashed host had not made durable is sent again to the new host.
/// </remarks>
public sealed record Send
{
    private Send(string? signalName, string? payloadJson, string? cancelReason)
    {
        SignalName = signalName;
        PayloadJson = payloadJson;
        CancelReason = cancelReason;
    }

    /// <summary>The signal's name; null for a cancellation.</summary>
    public string? SignalName { get; }

    /// <summary>The signal's payload as JSON.</summary>
    public string? PayloadJson { get; }

    /// <summary>The cancellation's reason.</summary>
    public string? CancelReason { get; }

    /// <summary>Whether this is a cancellation.</summary>
    public bool IsCancellation => SignalName is null;

    /// <summary>A signal whose payload is <paramref name="payload"/> serialized with <paramref name="json"/> (web defaults when null, as the registry's).</summary>
    public static Send Signal<TPayload>(string name, TPayload payload, JsonSerializerOptions? json = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Send(name, JsonSerializer.Serialize(payload, json ?? new JsonSerializerOptions(JsonSerializerDefaults.Web)), null);
    }

    /// <summary>The workflow's cancellation.</summary>
    public static Send Cancel(string? reason = null) => new(null, null, reason ?? "cancelled by the test");

    /// <inheritdoc />
    public override string ToString() => IsCancellation ? $"cancel ({CancelReason})" : $"signal '{SignalName}' {PayloadJson}";
}
