using System.Collections.Immutable;
using Durable.Actors.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Durable.Actors.Analyzers.Tests;

/// <summary>
/// Runs the analyzer (and its code fix) on test sources compiled against the running runtime's assemblies and
/// Durable.Actors: no reference pack is resolved, so nothing is downloaded.
/// </summary>
internal static class Verify
{
    /// <summary>What every test source starts with.</summary>
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Durable.Actors;

        """;

    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    /// <summary>Checks that <paramref name="source"/> reports exactly the diagnostics marked in it (<c>{|DURABLE0001:code|}</c>).</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<WorkflowAnalyzer, DefaultVerifier> { TestCode = Usings + source };
        return RunAsync(test, test.TestState, expected);
    }

    /// <summary>Checks the diagnostics marked in <paramref name="source"/> and that the code fix turns it into <paramref name="fixedSource"/>.</summary>
    /// <param name="source">The code before, with its diagnostics marked.</param>
    /// <param name="fixedSource">The code after every fix (one at a time, and all at once).</param>
    /// <param name="fixAllIterations">How many fix-all passes it takes when not one: one per kind of fix (a fix-all applies one kind).</param>
    public static Task CodeFixAsync(string source, string fixedSource, int? fixAllIterations = null)
    {
        var test = new CSharpCodeFixTest<WorkflowAnalyzer, WorkflowContextCodeFix, DefaultVerifier>
        {
            TestCode = Usings + source,
            FixedCode = Usings + fixedSource,
            NumberOfFixAllIterations = fixAllIterations,
            NumberOfFixAllInDocumentIterations = fixAllIterations,
            NumberOfFixAllInProjectIterations = fixAllIterations,
        };
        // The fix may leave some diagnostics (a second one it does not fix): they are marked in the fixed source.
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        return RunAsync(test, test.TestState, []);
    }

    private static Task RunAsync(AnalyzerTest<DefaultVerifier> test, SolutionState state, DiagnosticResult[] expected)
    {
        test.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(References);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => string.Equals(Path.GetDirectoryName(path), runtime, StringComparison.Ordinal));
        return [.. framework.Append(typeof(IWorkflowContext).Assembly.Location).Select(path => MetadataReference.CreateFromFile(path))];
    }
}
