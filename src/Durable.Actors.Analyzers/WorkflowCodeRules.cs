using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace Durable.Actors.Analyzers;

/// <summary>The calls that break replay when they run in workflow code (DURABLE0001 to DURABLE0006).</summary>
internal static class WorkflowCodeRules
{
    private const string NowRemedy = "IWorkflowContext.NowAsync()";
    private const string GuidRemedy = "IWorkflowContext.NewGuidAsync()";
    private const string RandomRemedy = "IWorkflowContext.RandomAsync(min, max)";
    private const string ClockRemedy = "IWorkflowContext.NowAsync(), or measure inside a step";
    private const string SleepRemedy = "IWorkflowContext.SleepAsync";
    private const string TimerRemedy = "IWorkflowContext.SleepAsync, or a signal wait with a timeout";

    /// <summary>The diagnostic for <paramref name="operation"/> when it is workflow code, or null when it is fine there.</summary>
    public static Diagnostic? Check(IOperation operation, KnownSymbols known) => operation switch
    {
        IPropertyReferenceOperation property => CheckProperty(property, known),
        IInvocationOperation invocation => CheckInvocation(invocation, known),
        IObjectCreationOperation creation => CheckCreation(creation, known),
        _ => null,
    };

    private static Diagnostic? CheckProperty(IPropertyReferenceOperation reference, KnownSymbols known)
    {
        var property = reference.Property;
        var type = property.ContainingType;
        var name = property.Name;
        if (KnownSymbols.Is(type, known.DateTime))
        {
            return name switch
            {
                "UtcNow" => Value(reference, "DateTime.UtcNow", NowRemedy, FixKinds.UtcDateTime),
                "Now" => Value(reference, "DateTime.Now", NowRemedy, FixKinds.LocalDateTime),
                "Today" => Value(reference, "DateTime.Today", NowRemedy, FixKinds.Today),
                _ => null,
            };
        }
        if (KnownSymbols.Is(type, known.DateTimeOffset))
        {
            return name switch
            {
                "UtcNow" => Value(reference, "DateTimeOffset.UtcNow", NowRemedy, FixKinds.UtcDateTimeOffset),
                "Now" => Value(reference, "DateTimeOffset.Now", NowRemedy, FixKinds.LocalDateTimeOffset),
                _ => null,
            };
        }
        // Random.Shared.Next() is reported once, on the call.
        if (KnownSymbols.Is(type, known.Random) && name == "Shared"
            && !(reference.Parent is IInvocationOperation call && call.Instance == reference))
        {
            return Value(reference, "Random.Shared", RandomRemedy, null);
        }
        if (KnownSymbols.Is(type, known.Environment) && name is "TickCount" or "TickCount64")
            return Value(reference, "Environment." + name, ClockRemedy, null);
        return null;
    }

    private static Diagnostic? CheckInvocation(IInvocationOperation invocation, KnownSymbols known)
    {
        var method = invocation.TargetMethod;
        var type = method.ContainingType;
        var name = method.Name;
        var typeAndName = $"{type.Name}.{name}()";

        if (KnownSymbols.Is(type, known.Guid) && name is "NewGuid" or "CreateVersion7")
            return Value(invocation, typeAndName, GuidRemedy, name == "NewGuid" ? FixKinds.NewGuid : null);
        if (KnownSymbols.Is(type, known.Random) && invocation.Instance is IPropertyReferenceOperation { Property.Name: "Shared" })
            return Value(invocation, $"Random.Shared.{name}()", RandomRemedy, name == "Next" ? FixKinds.SharedRandom : null);
        if (KnownSymbols.Is(type, known.Stopwatch) && method.IsStatic && name is "StartNew" or "GetTimestamp" or "GetElapsedTime")
            return Value(invocation, typeAndName, ClockRemedy, null);

        if (KnownSymbols.Is(type, known.Task))
        {
            switch (name)
            {
                case "Delay":
                    return Create(Descriptors.WaitOutsideEngine, invocation.Syntax.GetLocation(), typeAndName, SleepRemedy, FixKinds.Sleep);
                case "Run":
                    return Create(Descriptors.ThreadOutsideEngine, invocation.Syntax.GetLocation(), typeAndName);
                case "WhenAny" or "WaitAny":
                    return Create(Descriptors.UnrecordedRace, invocation.Syntax.GetLocation(), typeAndName);
            }
        }
        if (KnownSymbols.Is(type, known.Thread) && name == "Sleep")
            return Create(Descriptors.WaitOutsideEngine, invocation.Syntax.GetLocation(), typeAndName, SleepRemedy, FixKinds.Sleep);
        if ((KnownSymbols.Is(type, known.TaskFactory) || KnownSymbols.Is(type, known.TaskFactoryOfT)) && name == "StartNew")
            return Create(Descriptors.ThreadOutsideEngine, invocation.Syntax.GetLocation(), "Task.Factory.StartNew()");
        if (KnownSymbols.Is(type, known.ThreadPool) && name is "QueueUserWorkItem" or "UnsafeQueueUserWorkItem")
            return Create(Descriptors.ThreadOutsideEngine, invocation.Syntax.GetLocation(), typeAndName);
        if (KnownSymbols.Is(type, known.Parallel))
            return Create(Descriptors.ThreadOutsideEngine, invocation.Syntax.GetLocation(), typeAndName);
        if (name == "ConfigureAwait" && ContinuesElsewhere(invocation))
            return Create(Descriptors.ConfigureAwaitFalse, ConfigureAwaitLocation(invocation), "ConfigureAwait(false)");

        if (IsIo(type, name, known))
            return Create(Descriptors.IoOutsideStep, invocation.Syntax.GetLocation(), typeAndName);
        return null;
    }

    private static Diagnostic? CheckCreation(IObjectCreationOperation creation, KnownSymbols known)
    {
        var type = creation.Type;
        var location = creation.Syntax.GetLocation();
        if (type is null)
            return null;
        var created = $"new {type.Name}()";
        if (KnownSymbols.Is(type, known.Random))
            return Value(creation, created, RandomRemedy, FixKinds.NewRandom);
        if (KnownSymbols.Is(type, known.Stopwatch))
            return Value(creation, created, ClockRemedy, null);
        if (KnownSymbols.Is(type, known.Thread))
            return Create(Descriptors.ThreadOutsideEngine, location, created);
        if (KnownSymbols.Is(type, known.TimersTimer))
            return Create(Descriptors.WaitOutsideEngine, location, "new System.Timers.Timer()", TimerRemedy);
        if (KnownSymbols.Is(type, known.ThreadingTimer) || KnownSymbols.Is(type, known.PeriodicTimer))
            return Create(Descriptors.WaitOutsideEngine, location, created, TimerRemedy);
        if (KnownSymbols.Is(type, known.FileStream))
            return Create(Descriptors.IoOutsideStep, location, created);
        // A reader or writer opened on a path (its first parameter a string), not one wrapping a stream.
        var opensByName = creation.Constructor is { Parameters.Length: > 0 } opened && opened.Parameters[0].Type.SpecialType == SpecialType.System_String;
        if ((KnownSymbols.Is(type, known.StreamReader) || KnownSymbols.Is(type, known.StreamWriter)) && opensByName)
            return Create(Descriptors.IoOutsideStep, location, $"new {type.Name}(path)");
        // new TcpClient("host", port) connects.
        if (InSockets(type) && creation.Constructor is { } constructor && constructor.Parameters.Any(p => p.Type.SpecialType == SpecialType.System_String))
            return Create(Descriptors.IoOutsideStep, location, created);
        return null;
    }

    private static bool IsIo(INamedTypeSymbol type, string name, KnownSymbols known)
    {
        if (name is "Dispose" or "DisposeAsync")
            return false;
        if (KnownSymbols.Is(type, known.File) || KnownSymbols.Is(type, known.Directory) || KnownSymbols.DerivesFrom(type, known.FileSystemInfo))
            return true;
        if (KnownSymbols.DerivesFrom(type, known.HttpMessageInvoker))
            return true;
        if (KnownSymbols.DerivesFrom(type, known.DbConnection) || KnownSymbols.DerivesFrom(type, known.DbCommand)
            || KnownSymbols.Is(type, known.IDbConnection) || KnownSymbols.Is(type, known.IDbCommand))
        {
            return true;
        }
        if (KnownSymbols.Is(type, known.Console))
            return name is "ReadLine" or "Read" or "ReadKey";
        return InSockets(type);
    }

    private static bool InSockets(ITypeSymbol type) =>
        type.ContainingNamespace is { Name: "Sockets", ContainingNamespace: { Name: "Net", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };

    /// <summary><c>ConfigureAwait(false)</c>, or <c>ConfigureAwait(options)</c> with constant options lacking <c>ContinueOnCapturedContext</c>.</summary>
    private static bool ContinuesElsewhere(IInvocationOperation invocation)
    {
        if (invocation.Arguments.Length != 1)
            return false;
        var value = invocation.Arguments[0].Value.ConstantValue;
        return value.HasValue && value.Value switch
        {
            bool continueOnCapturedContext => !continueOnCapturedContext,
            int options => (options & 1) == 0,
            _ => false,
        };
    }

    /// <summary>From <c>ConfigureAwait</c> to the end of the call, not the whole awaited expression.</summary>
    private static Location ConfigureAwaitLocation(IInvocationOperation invocation) =>
        invocation.Syntax is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax member } call
            ? Location.Create(call.SyntaxTree, TextSpan.FromBounds(member.Name.SpanStart, call.Span.End))
            : invocation.Syntax.GetLocation();

    private static Diagnostic Value(IOperation operation, string found, string remedy, string? fix) =>
        Create(Descriptors.NondeterministicValue, operation.Syntax.GetLocation(), found, remedy, fix);

    private static Diagnostic Create(DiagnosticDescriptor descriptor, Location location, string found, string? remedy = null, string? fix = null)
    {
        var properties = fix is null ? null : ImmutableDictionary<string, string?>.Empty.Add(FixKinds.Key, fix);
        return Diagnostic.Create(descriptor, location, properties, found, remedy);
    }
}
