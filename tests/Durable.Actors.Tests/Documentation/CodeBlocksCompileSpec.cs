using System.Text.RegularExpressions;
using Durable.Actors.Tests.TestSupport;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Durable.Actors.Tests.Documentation;

/// <summary>
/// The C# blocks of the documentation that say they compile, compile against the packages' current API, so the
/// examples cannot rot. A block preceded by <c>&lt;!-- compile --&gt;</c> is a whole file (top-level statements and
/// types); one preceded by <c>&lt;!-- compile: given &lt;parameters&gt; --&gt;</c> is statements, compiled as the body of
/// an async method with those parameters (what the example takes as given, written as C# parameters). Both see the
/// usings of a console project plus the engine's namespaces, and the types of this test assembly (the test kit's
/// README example uses its workflow). Blocks without a marker are fragments (placeholders such as <c>...</c>).
/// </summary>
public sealed partial class CodeBlocksCompileSpec
{
    private const string Usings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Akka.Actor;
        global using Akka.Configuration;
        global using Durable.Actors;
        global using Durable.Actors.Cluster;
        global using Durable.Actors.Samples.Onboarding;
        global using Durable.Actors.Testing;
        global using Durable.Actors.Tests.Testing;
        global using Xunit;
        """;

    [Fact]
    public void MarkedBlocks_Compile()
    {
        var blocks = Repository.MarkdownFiles().SelectMany(Blocks).ToList();
        Assert.True(blocks.Count >= 6, $"only {blocks.Count} blocks are marked to compile");
        var failures = new List<string>();
        foreach (var block in blocks)
        {
            var source = block.Given is null
                ? block.Code
                : $"public static class Snippet\n{{\n    public static async Task RunAsync({block.Given})\n    {{\n{block.Code}\n        await Task.CompletedTask;\n    }}\n}}\n";
            var errors = Compile(source, block.Given is null);
            if (errors.Count > 0)
                failures.Add($"{block.Where}:\n  {string.Join("\n  ", errors)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static List<string> Compile(string source, bool program)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(Usings, parse), CSharpSyntaxTree.ParseText(source, parse)],
            References.Value,
            new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            // A whole file may be types only (no entry point).
            .Where(d => d.Id != "CS5001")
            .Select(d => d.ToString())
            .ToList();
    }

    /// <summary>Every assembly the test host runs with: the runtime, the engine's packages, Akka, xunit, this assembly.</summary>
    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList());

    private static IEnumerable<(string Where, string? Given, string Code)> Blocks(string markdown)
    {
        var lines = File.ReadAllLines(markdown);
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```csharp" || Marker().Match(lines[i - 1]) is not { Success: true } marker)
                continue;
            var end = Array.FindIndex(lines, i + 1, l => l.StartsWith("```", StringComparison.Ordinal));
            var given = marker.Groups["given"].Success ? marker.Groups["given"].Value.Trim() : null;
            yield return ($"{Path.GetRelativePath(Repository.Root, markdown)} line {i + 1}", given, string.Join('\n', lines[(i + 1)..end]));
            i = end;
        }
    }

    [GeneratedRegex(@"^\s*<!--\s*compile(?:\s*:\s*given\s+(?<given>.*?))?\s*-->\s*$")]
    private static partial Regex Marker();
}
