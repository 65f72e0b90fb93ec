using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Durable.Actors.Analyzers;

/// <summary>The analysis of one type, once the operations of all its members are known.</summary>
internal sealed class TypeAnalysis
{
    private const int MaxIdDepth = 8;

    private readonly INamedTypeSymbol _type;
    private readonly KnownSymbols _known;
    private readonly IEnumerable<(ISymbol Owner, IOperation Block)> _blocks;
    private readonly Action<Diagnostic> _report;
    private readonly CancellationToken _cancellationToken;

    private readonly Dictionary<IMethodSymbol, List<IOperation>> _bodies = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<IMethodSymbol, ILocalFunctionOperation> _localFunctions = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<IMethodSymbol, List<IInvocationOperation>> _callsTo = new(SymbolEqualityComparer.Default);
    private readonly HashSet<IMethodSymbol> _usedAsDelegate = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ILocalSymbol, IOperation> _initializers = new(SymbolEqualityComparer.Default);
    private readonly HashSet<ILocalSymbol> _reassigned = new(SymbolEqualityComparer.Default);
    private readonly List<IAnonymousFunctionOperation> _contextLambdas = [];
    private readonly List<IInvocationOperation> _steps = [];

    private readonly HashSet<IMethodSymbol> _visited = new(SymbolEqualityComparer.Default);
    private readonly Stack<IOperation> _workflowCode = new();

    public TypeAnalysis(
        INamedTypeSymbol type, KnownSymbols known, IEnumerable<(ISymbol Owner, IOperation Block)> blocks, Action<Diagnostic> report,
        CancellationToken cancellationToken)
    {
        _type = type;
        _known = known;
        _blocks = blocks;
        _report = report;
        _cancellationToken = cancellationToken;
    }

    public void Run()
    {
        Collect();
        foreach (var contract in _type.AllInterfaces)
        {
            if (!KnownSymbols.Is(contract, _known.Workflow))
                continue;
            foreach (var member in contract.GetMembers("RunAsync"))
            {
                if (_type.FindImplementationForInterfaceMember(member) is IMethodSymbol run)
                    Follow(run);
            }
        }
        foreach (var lambda in _contextLambdas)
            Enter(lambda.Symbol, lambda.Body);
        while (_workflowCode.Count > 0)
            VisitWorkflowCode(_workflowCode.Pop());
        foreach (var step in _steps)
            CheckStep(step);
    }

    /// <summary>One pass over every member: bodies, local functions, calls between members, context lambdas and steps.</summary>
    private void Collect()
    {
        var pending = new Stack<IOperation>();
        foreach (var (owner, block) in _blocks)
        {
            // An expression-bodied property's block may be owned by the property rather than its getter.
            if ((owner as IMethodSymbol ?? (owner as IPropertySymbol)?.GetMethod) is { } method)
            {
                if (!_bodies.TryGetValue(method, out var bodies))
                    _bodies.Add(method, bodies = []);
                bodies.Add(block);
            }
            pending.Push(block);
        }
        while (pending.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var operation = pending.Pop();
            switch (operation)
            {
                case IAnonymousFunctionOperation lambda when TakesContext(lambda.Symbol):
                    _contextLambdas.Add(lambda);
                    break;
                case ILocalFunctionOperation local:
                    _localFunctions[local.Symbol] = local;
                    break;
                case IInvocationOperation call:
                    if (_known.IsStep(call.TargetMethod))
                        _steps.Add(call);
                    if (IsOwn(call.TargetMethod))
                    {
                        var target = call.TargetMethod.OriginalDefinition;
                        if (!_callsTo.TryGetValue(target, out var calls))
                            _callsTo.Add(target, calls = []);
                        calls.Add(call);
                    }
                    break;
                case IMethodReferenceOperation reference when IsOwn(reference.Method):
                    _usedAsDelegate.Add(reference.Method.OriginalDefinition);
                    break;
                case IVariableDeclaratorOperation { Initializer: { } initializer } declarator:
                    _initializers[declarator.Symbol] = initializer.Value;
                    break;
                case IAssignmentOperation { Target: ILocalReferenceOperation target }:
                    _reassigned.Add(target.Local);
                    break;
                case IIncrementOrDecrementOperation { Target: ILocalReferenceOperation target }:
                    _reassigned.Add(target.Local);
                    break;
                case IArgumentOperation { Value: ILocalReferenceOperation target, Parameter.RefKind: RefKind.Ref or RefKind.Out }:
                    _reassigned.Add(target.Local);
                    break;
            }
            foreach (var child in operation.ChildOperations)
                pending.Push(child);
        }
    }

    /// <summary>Reports what breaks replay in one piece of workflow code and queues the code it calls.</summary>
    private void VisitWorkflowCode(IOperation root)
    {
        var pending = new Stack<IOperation>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var operation = pending.Pop();
            switch (operation)
            {
                case IAnonymousFunctionOperation lambda when TakesContext(lambda.Symbol):
                    Enter(lambda.Symbol, lambda.Body);
                    continue;
                case ILocalFunctionOperation:
                    // Workflow code only when called from workflow code (it may be a step body).
                    continue;
                case IInvocationOperation call when _known.IsStep(call.TargetMethod):
                    // The step body is the side effect: everything may run there. Its id and options are workflow code.
                    if (call.Instance is not null)
                        pending.Push(call.Instance);
                    foreach (var argument in call.Arguments)
                    {
                        if (argument.Parameter?.Name != "body")
                            pending.Push(argument);
                    }
                    continue;
                case IInvocationOperation call:
                    Follow(call.TargetMethod);
                    break;
                case IPropertyReferenceOperation property when IsOwn(property.Property):
                    if (property.Property.GetMethod is { } getter)
                        Follow(getter);
                    if (property.Property.SetMethod is { } setter)
                        Follow(setter);
                    break;
            }
            if (WorkflowCodeRules.Check(operation, _known) is { } diagnostic)
                _report(diagnostic);
            foreach (var child in operation.ChildOperations)
                pending.Push(child);
        }
    }

    /// <summary>Queues the body of a method or local function of this type as workflow code, once.</summary>
    private void Follow(IMethodSymbol method)
    {
        var definition = method.OriginalDefinition;
        if (definition.MethodKind == MethodKind.LocalFunction)
        {
            if (_localFunctions.TryGetValue(definition, out var local))
                Enter(definition, local.Body ?? local.IgnoredBody);
        }
        else if (IsOwn(definition) && _bodies.TryGetValue(definition, out var bodies) && _visited.Add(definition))
        {
            foreach (var body in bodies)
                _workflowCode.Push(body);
        }
    }

    private void Enter(IMethodSymbol code, IOperation? body)
    {
        if (body is not null && _visited.Add(code))
            _workflowCode.Push(body);
    }

    /// <summary>DURABLE0008 on the step's id, DURABLE0007 on durable operations in its body.</summary>
    private void CheckStep(IInvocationOperation step)
    {
        foreach (var argument in step.Arguments)
        {
            if (argument.Parameter?.Name == "stepId" && !IsConstantId(argument.Value, 0))
                _report(Diagnostic.Create(Descriptors.NonConstantStepId, argument.Value.Syntax.GetLocation(), Shorten(argument.Value.Syntax.ToString())));
            else if (argument.Parameter?.Name == "body" && Unwrap(argument.Value) is IAnonymousFunctionOperation body)
                CheckStepBody(body.Body);
        }
    }

    private void CheckStepBody(IOperation body)
    {
        var pending = new Stack<IOperation>();
        pending.Push(body);
        while (pending.Count > 0)
        {
            var operation = pending.Pop();
            if (operation is IAnonymousFunctionOperation lambda && TakesContext(lambda.Symbol))
                continue;
            if (operation is IInvocationOperation call && _known.IsDurableOperation(call.TargetMethod))
            {
                _report(Diagnostic.Create(Descriptors.DurableOperationInStep, call.Syntax.GetLocation(), $"IWorkflowContext.{call.TargetMethod.Name}()"));
                // A nested step's body is checked as that step's own.
                if (_known.IsStep(call.TargetMethod))
                    continue;
            }
            foreach (var child in operation.ChildOperations)
                pending.Push(child);
        }
    }

    /// <summary>
    /// Whether a step id is fixed at compile time: a constant, an interpolation of constants, a choice between such ids
    /// (<c>approved ? "pay" : "reject"</c>, a switch expression), a local assigned once from one, or a parameter of a
    /// private method (or local function) of this type that every call passes one.
    /// </summary>
    private bool IsConstantId(IOperation value, int depth)
    {
        value = Unwrap(value);
        if (value.ConstantValue.HasValue)
            return true;
        if (depth >= MaxIdDepth)
            return false;
        switch (value)
        {
            case IInterpolatedStringOperation interpolated:
                return interpolated.Parts.All(part => part is not IInterpolationOperation hole || IsConstantId(hole.Expression, depth + 1));
            case IConditionalOperation { WhenFalse: { } whenFalse } conditional:
                return IsConstantId(conditional.WhenTrue, depth + 1) && IsConstantId(whenFalse, depth + 1);
            case ISwitchExpressionOperation choice:
                return choice.Arms.All(arm => IsConstantId(arm.Value, depth + 1));
            case ILocalReferenceOperation local:
                return !_reassigned.Contains(local.Local) && _initializers.TryGetValue(local.Local, out var initializer)
                    && IsConstantId(initializer, depth + 1);
            case IParameterReferenceOperation { Parameter: { ContainingSymbol: IMethodSymbol method } parameter }:
                return IsConstantParameter(method.OriginalDefinition, parameter.Ordinal, depth);
            default:
                return false;
        }
    }

    private bool IsConstantParameter(IMethodSymbol method, int ordinal, int depth)
    {
        var callable = method.MethodKind == MethodKind.LocalFunction
            || (method.MethodKind == MethodKind.Ordinary && method.DeclaredAccessibility == Accessibility.Private && IsOwn(method));
        if (!callable || _usedAsDelegate.Contains(method))
            return false;
        if (!_callsTo.TryGetValue(method, out var calls))
            return true;
        foreach (var call in calls)
        {
            var argument = call.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == ordinal);
            if (argument is null || !IsConstantId(argument.Value, depth + 1))
                return false;
        }
        return true;
    }

    private bool TakesContext(IMethodSymbol method) => method.Parameters.Any(p => _known.IsContext(p.Type));

    private bool IsOwn(ISymbol member) =>
        member is IMethodSymbol { MethodKind: MethodKind.LocalFunction }
        || SymbolEqualityComparer.Default.Equals(member.ContainingType?.OriginalDefinition, _type.OriginalDefinition);

    private static IOperation Unwrap(IOperation value)
    {
        while (true)
        {
            switch (value)
            {
                case IConversionOperation conversion:
                    value = conversion.Operand;
                    break;
                case IDelegateCreationOperation creation:
                    value = creation.Target;
                    break;
                case IParenthesizedOperation parenthesized:
                    value = parenthesized.Operand;
                    break;
                default:
                    return value;
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text.Substring(0, 57) + "...";
}
