using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Durable.Actors.Analyzers;

/// <summary>
/// Finds calls that break a workflow's replay. Workflow code is a <c>RunAsync</c> implementing <c>IWorkflow</c>, every
/// lambda taking an <c>IWorkflowContext</c> (parallel branches, workflows written as lambdas), and the methods of the
/// same type they call, transitively; step bodies are not workflow code. Each type is analyzed once all its members
/// are: the call graph of a workflow stays within its type.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
internal sealed class WorkflowAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Descriptors.All;

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = KnownSymbols.TryCreate(start.Compilation);
            if (known is null)
                return;
            start.RegisterSymbolStartAction(symbolStart =>
            {
                var type = (INamedTypeSymbol)symbolStart.Symbol;
                var blocks = new ConcurrentQueue<(ISymbol Owner, IOperation Block)>();
                symbolStart.RegisterOperationBlockAction(block =>
                {
                    // Members of nested types belong to the nested type's own analysis.
                    if (!SymbolEqualityComparer.Default.Equals(block.OwningSymbol.ContainingType, type))
                        return;
                    foreach (var operation in block.OperationBlocks)
                        blocks.Enqueue((block.OwningSymbol, operation));
                });
                symbolStart.RegisterSymbolEndAction(end =>
                    new TypeAnalysis(type, known, blocks, end.ReportDiagnostic, end.CancellationToken).Run());
            }, SymbolKind.NamedType);
        });
    }
}
