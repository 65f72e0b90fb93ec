namespace Durable.Actors.Samples.Onboarding;

/// <summary>
/// Where the sample's steps leave their observable side effect: one line <c>&lt;workflowId&gt; &lt;stepId&gt;</c> per real
/// execution, so anyone can count how often each step really ran.
/// </summary>
/// <param name="path">The log file; created on first append.</param>
public sealed class EffectsLog(string path)
{
    // Appends from parallel branches must not interleave: FileMode.Append is not atomic across writers.
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The log file.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Appends one line and flushes it to disk.</summary>
    public async Task AppendAsync(string workflowId, string stepId, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            await using var writer = new StreamWriter(file);
            await writer.WriteLineAsync($"{workflowId} {stepId}".AsMemory(), cancellationToken).ConfigureAwait(false);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        finally
        {
            Gate.Release();
        }
    }
}
