using System.Globalization;

namespace Durable.Actors;

/// <summary>Step keys: <c>workflowId:sequence</c>, where a branch's steps extend its reserved number (<c>wf:3.1</c>, <c>wf:3.2.1</c>).</summary>
public static class StepKeys
{
    internal static string Of(string workflowId, string scope, int sequence) => $"{workflowId}:{scope}{sequence}";

    /// <summary>The key <paramref name="offset"/> places after <paramref name="key"/> at the same depth.</summary>
    internal static string Offset(string key, int offset)
    {
        var split = Math.Max(key.LastIndexOf(':'), key.LastIndexOf('.')) + 1;
        return key[..split] + (int.Parse(key.AsSpan(split), CultureInfo.InvariantCulture) + offset);
    }

    /// <summary>Orders keys by their sequence numbers, so history reads in program order whatever the scheduling.</summary>
    public static IComparer<string> Comparer { get; } = Comparer<string>.Create((a, b) => CompareSequences(Sequence(a!), Sequence(b!)));

    /// <summary>
    /// Orders the sequences of keys (<see cref="Sequence"/>): sorting by a key's sequence parsed once, rather than with
    /// <see cref="Comparer"/>, which parses both keys at every comparison (a 5,000-step status spent most of its time there).
    /// </summary>
    public static IComparer<int[]> SequenceComparer { get; } = Comparer<int[]>.Create((x, y) => CompareSequences(x!, y!));

    private static int CompareSequences(int[] x, int[] y)
    {
        for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            if (x[i] != y[i])
                return x[i].CompareTo(y[i]);
        }
        return x.Length.CompareTo(y.Length);
    }

    /// <summary>The sequence numbers of a key: <c>wf:3.2.1</c> is [3, 2, 1].</summary>
    public static int[] Sequence(string key) =>
        key[(key.LastIndexOf(':') + 1)..].Split('.').Select(int.Parse).ToArray();
}
