using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Operations;

namespace Durable.Actors.Analyzers;

/// <summary>
/// Puts the workflow context's recorded operations in place of the clock, new GUIDs, random numbers and delays
/// (DURABLE0001, DURABLE0002). The context is the nearest <c>IWorkflowContext</c> parameter (or the one local of that
/// type) in scope. A replacement that needs <c>await</c> is offered only in an async method or lambda: making a method
/// async changes its signature and its callers, which is for the author to decide.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WorkflowContextCodeFix))]
[Shared]
internal sealed class WorkflowContextCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        [Descriptors.NondeterministicValueId, Descriptors.WaitOutsideEngineId];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(FixKinds.Key, out var kind) || kind is null)
                continue;
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (node is ArgumentSyntax argument)
                node = argument.Expression;
            var workflowContext = FindContext(node, model, context.CancellationToken);
            if (workflowContext is null)
                continue;
            var action = kind switch
            {
                FixKinds.NewRandom => RandomLocalFix(context.Document, node, model, workflowContext, context.CancellationToken),
                FixKinds.Sleep => SleepFix(context.Document, node, model, workflowContext, context.CancellationToken),
                _ => ExpressionFix(context.Document, node, kind, workflowContext, model, context.CancellationToken),
            };
            if (action is not null)
                context.RegisterCodeFix(action, diagnostic);
        }
    }

    /// <summary>A value read in place: the clock, a GUID, <c>Random.Shared.Next</c>.</summary>
    private static CodeAction? ExpressionFix(
        Document document, SyntaxNode node, string kind, string workflowContext, SemanticModel model, CancellationToken cancellationToken)
    {
        if (node is not ExpressionSyntax expression || !CanAwait(expression))
            return null;
        string replacement, title;
        switch (kind)
        {
            case FixKinds.UtcDateTime:
                (replacement, title) = ($"(await {workflowContext}.NowAsync()).UtcDateTime", "NowAsync");
                break;
            case FixKinds.LocalDateTime:
                (replacement, title) = ($"(await {workflowContext}.NowAsync()).LocalDateTime", "NowAsync");
                break;
            case FixKinds.Today:
                (replacement, title) = ($"(await {workflowContext}.NowAsync()).LocalDateTime.Date", "NowAsync");
                break;
            case FixKinds.LocalDateTimeOffset:
                (replacement, title) = ($"(await {workflowContext}.NowAsync()).ToLocalTime()", "NowAsync");
                break;
            case FixKinds.UtcDateTimeOffset:
                (replacement, title) = (Awaited($"await {workflowContext}.NowAsync()", expression), "NowAsync");
                break;
            case FixKinds.NewGuid:
                (replacement, title) = (Awaited($"await {workflowContext}.NewGuidAsync()", expression), "NewGuidAsync");
                break;
            case FixKinds.SharedRandom:
                var range = RandomRange(expression, model, cancellationToken);
                if (range is null)
                    return null;
                (replacement, title) = (Awaited($"await {workflowContext}.RandomAsync({range})", expression), "RandomAsync");
                break;
            default:
                return null;
        }
        return CodeAction.Create(
            $"Use {workflowContext}.{title}()",
            async ct =>
            {
                var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
                var parsed = SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(expression);
                return document.WithSyntaxRoot(root!.ReplaceNode(expression, parsed));
            },
            equivalenceKey: title);
    }

    /// <summary><c>var random = new Random();</c> whose every use is <c>random.Next(…)</c>: each becomes <c>await ctx.RandomAsync(…)</c>.</summary>
    private static CodeAction? RandomLocalFix(
        Document document, SyntaxNode node, SemanticModel model, string workflowContext, CancellationToken cancellationToken)
    {
        if (node is not BaseObjectCreationExpressionSyntax creation
            || creation.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator }
            || declarator.Parent is not VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax declaration }
            || model.GetDeclaredSymbol(declarator, cancellationToken) is not ILocalSymbol local
            || EnclosingFunction(declaration) is not { } function
            || !IsAsync(function))
        {
            return null;
        }
        var replacements = new List<(ExpressionSyntax Call, string Replacement)>();
        foreach (var use in function.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (use.Identifier.ValueText != local.Name || !SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(use, cancellationToken).Symbol, local))
                continue;
            if (use.Parent is not MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax call } member
                || member.Expression != use || EnclosingFunction(call) != function || !CanAwait(call))
            {
                return null;
            }
            var range = RandomRange(call, model, cancellationToken);
            if (range is null)
                return null;
            replacements.Add((call, Awaited($"await {workflowContext}.RandomAsync({range})", call)));
        }
        return CodeAction.Create(
            $"Use {workflowContext}.RandomAsync()",
            async ct =>
            {
                var editor = await DocumentEditor.CreateAsync(document, ct).ConfigureAwait(false);
                foreach (var (call, replacement) in replacements)
                    editor.ReplaceNode(call, SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(call));
                editor.RemoveNode(declaration);
                return editor.GetChangedDocument();
            },
            equivalenceKey: "RandomAsync");
    }

    /// <summary><c>Task.Delay(x)</c> becomes <c>ctx.SleepAsync(x)</c>; the statement <c>Thread.Sleep(x);</c> becomes <c>await ctx.SleepAsync(x);</c>.</summary>
    private static CodeAction? SleepFix(Document document, SyntaxNode node, SemanticModel model, string workflowContext, CancellationToken cancellationToken)
    {
        if (node is not InvocationExpressionSyntax call || model.GetOperation(call, cancellationToken) is not IInvocationOperation invocation)
            return null;
        var method = invocation.TargetMethod;
        // TimeProvider overloads measure another clock: no fix.
        if (method.Parameters.Any(p => p.Type.Name == "TimeProvider"))
            return null;
        var duration = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0)?.Value.Syntax as ExpressionSyntax;
        if (duration is null)
            return null;
        var text = duration.WithoutTrivia().ToString();
        if (method.Parameters[0].Type.SpecialType == SpecialType.System_Int32)
        {
            var timeSpan = model.LookupNamespacesAndTypes(call.SpanStart, name: "TimeSpan").Any(t => t.ToDisplayString() == "System.TimeSpan")
                ? "TimeSpan"
                : "System.TimeSpan";
            text = $"{timeSpan}.FromMilliseconds({text})";
        }
        string replacement;
        if (method.Name == "Delay")
            replacement = $"{workflowContext}.SleepAsync({text})";
        else if (call.Parent is ExpressionStatementSyntax && CanAwait(call))
            replacement = $"await {workflowContext}.SleepAsync({text})";
        else
            return null;
        return CodeAction.Create(
            $"Use {workflowContext}.SleepAsync()",
            async ct =>
            {
                var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
                return document.WithSyntaxRoot(root!.ReplaceNode(call, SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(call)));
            },
            equivalenceKey: "SleepAsync");
    }

    /// <summary>The arguments of <c>RandomAsync</c> for a call of <c>Random.Next</c> with int bounds, or null for another call.</summary>
    private static string? RandomRange(ExpressionSyntax expression, SemanticModel model, CancellationToken cancellationToken)
    {
        if (model.GetOperation(expression, cancellationToken) is not IInvocationOperation { TargetMethod.Name: "Next" } next
            || next.Arguments.Any(a => a.Parameter?.Type.SpecialType != SpecialType.System_Int32))
        {
            return null;
        }
        var bounds = next.Arguments.OrderBy(a => a.Parameter!.Ordinal).Select(a => a.Value.Syntax.ToString()).ToList();
        return bounds.Count switch
        {
            0 => "0, int.MaxValue",
            1 => $"0, {bounds[0]}",
            _ => $"{bounds[0]}, {bounds[1]}",
        };
    }

    /// <summary>The name of the context in scope: the nearest function's <c>IWorkflowContext</c> parameter, else the only such local.</summary>
    private static string? FindContext(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
    {
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            var function = ancestor switch
            {
                AnonymousFunctionExpressionSyntax lambda => model.GetSymbolInfo(lambda, cancellationToken).Symbol as IMethodSymbol,
                LocalFunctionStatementSyntax local => model.GetDeclaredSymbol(local, cancellationToken),
                BaseMethodDeclarationSyntax method => model.GetDeclaredSymbol(method, cancellationToken),
                _ => null,
            };
            var parameter = function?.Parameters.FirstOrDefault(p => IsContext(p.Type));
            if (parameter is not null)
                return parameter.Name;
        }
        var locals = model.LookupSymbols(node.SpanStart).OfType<ILocalSymbol>().Where(l => IsContext(l.Type)).Take(2).ToList();
        return locals.Count == 1 ? locals[0].Name : null;
    }

    private static bool IsContext(ITypeSymbol type) => type.ToDisplayString() == "Durable.Actors.IWorkflowContext";

    /// <summary>Whether <c>await</c> can stand at <paramref name="node"/>: in an async function, outside a lock and a query.</summary>
    private static bool CanAwait(SyntaxNode node)
    {
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (ancestor is LockStatementSyntax or QueryExpressionSyntax)
                return false;
            if (IsFunction(ancestor))
                return IsAsync(ancestor);
        }
        return false;
    }

    private static SyntaxNode? EnclosingFunction(SyntaxNode node)
    {
        for (var ancestor = node.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (IsFunction(ancestor))
                return ancestor;
        }
        return null;
    }

    private static bool IsFunction(SyntaxNode node) =>
        node is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax;

    private static bool IsAsync(SyntaxNode function) => function switch
    {
        AnonymousFunctionExpressionSyntax lambda => lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword),
        LocalFunctionStatementSyntax local => local.Modifiers.Any(SyntaxKind.AsyncKeyword),
        BaseMethodDeclarationSyntax method => method.Modifiers.Any(SyntaxKind.AsyncKeyword),
        _ => false,
    };

    /// <summary>An await expression, parenthesized where it is the operand of a member access, an index or a call.</summary>
    private static string Awaited(string awaitExpression, ExpressionSyntax replaced) =>
        replaced.Parent switch
        {
            MemberAccessExpressionSyntax member when member.Expression == replaced => $"({awaitExpression})",
            ConditionalAccessExpressionSyntax access when access.Expression == replaced => $"({awaitExpression})",
            ElementAccessExpressionSyntax or InvocationExpressionSyntax or PostfixUnaryExpressionSyntax => $"({awaitExpression})",
            _ => awaitExpression,
        };
}
