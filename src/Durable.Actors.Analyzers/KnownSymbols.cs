using Microsoft.CodeAnalysis;

namespace Durable.Actors.Analyzers;

/// <summary>The types the analyzer looks for, resolved once per compilation; a type the compilation lacks is null.</summary>
internal sealed class KnownSymbols
{
    private KnownSymbols(Compilation compilation, INamedTypeSymbol workflowContext, INamedTypeSymbol workflow)
    {
        WorkflowContext = workflowContext;
        Workflow = workflow;
        ContextExtensions = compilation.GetTypeByMetadataName("Durable.Actors.WorkflowContextExtensions");
        DateTime = compilation.GetTypeByMetadataName("System.DateTime");
        DateTimeOffset = compilation.GetTypeByMetadataName("System.DateTimeOffset");
        Guid = compilation.GetTypeByMetadataName("System.Guid");
        Random = compilation.GetTypeByMetadataName("System.Random");
        Environment = compilation.GetTypeByMetadataName("System.Environment");
        Stopwatch = compilation.GetTypeByMetadataName("System.Diagnostics.Stopwatch");
        Console = compilation.GetTypeByMetadataName("System.Console");
        TimeSpan = compilation.GetTypeByMetadataName("System.TimeSpan");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskFactory = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory");
        TaskFactoryOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.TaskFactory`1");
        Parallel = compilation.GetTypeByMetadataName("System.Threading.Tasks.Parallel");
        Thread = compilation.GetTypeByMetadataName("System.Threading.Thread");
        ThreadPool = compilation.GetTypeByMetadataName("System.Threading.ThreadPool");
        ThreadingTimer = compilation.GetTypeByMetadataName("System.Threading.Timer");
        TimersTimer = compilation.GetTypeByMetadataName("System.Timers.Timer");
        PeriodicTimer = compilation.GetTypeByMetadataName("System.Threading.PeriodicTimer");
        HttpMessageInvoker = compilation.GetTypeByMetadataName("System.Net.Http.HttpMessageInvoker");
        File = compilation.GetTypeByMetadataName("System.IO.File");
        Directory = compilation.GetTypeByMetadataName("System.IO.Directory");
        FileSystemInfo = compilation.GetTypeByMetadataName("System.IO.FileSystemInfo");
        FileStream = compilation.GetTypeByMetadataName("System.IO.FileStream");
        StreamReader = compilation.GetTypeByMetadataName("System.IO.StreamReader");
        StreamWriter = compilation.GetTypeByMetadataName("System.IO.StreamWriter");
        DbConnection = compilation.GetTypeByMetadataName("System.Data.Common.DbConnection");
        DbCommand = compilation.GetTypeByMetadataName("System.Data.Common.DbCommand");
        IDbConnection = compilation.GetTypeByMetadataName("System.Data.IDbConnection");
        IDbCommand = compilation.GetTypeByMetadataName("System.Data.IDbCommand");
    }

    public INamedTypeSymbol WorkflowContext { get; }
    public INamedTypeSymbol Workflow { get; }
    public INamedTypeSymbol? ContextExtensions { get; }
    public INamedTypeSymbol? DateTime { get; }
    public INamedTypeSymbol? DateTimeOffset { get; }
    public INamedTypeSymbol? Guid { get; }
    public INamedTypeSymbol? Random { get; }
    public INamedTypeSymbol? Environment { get; }
    public INamedTypeSymbol? Stopwatch { get; }
    public INamedTypeSymbol? Console { get; }
    public INamedTypeSymbol? TimeSpan { get; }
    public INamedTypeSymbol? Task { get; }
    public INamedTypeSymbol? TaskFactory { get; }
    public INamedTypeSymbol? TaskFactoryOfT { get; }
    public INamedTypeSymbol? Parallel { get; }
    public INamedTypeSymbol? Thread { get; }
    public INamedTypeSymbol? ThreadPool { get; }
    public INamedTypeSymbol? ThreadingTimer { get; }
    public INamedTypeSymbol? TimersTimer { get; }
    public INamedTypeSymbol? PeriodicTimer { get; }
    public INamedTypeSymbol? HttpMessageInvoker { get; }
    public INamedTypeSymbol? File { get; }
    public INamedTypeSymbol? Directory { get; }
    public INamedTypeSymbol? FileSystemInfo { get; }
    public INamedTypeSymbol? FileStream { get; }
    public INamedTypeSymbol? StreamReader { get; }
    public INamedTypeSymbol? StreamWriter { get; }
    public INamedTypeSymbol? DbConnection { get; }
    public INamedTypeSymbol? DbCommand { get; }
    public INamedTypeSymbol? IDbConnection { get; }
    public INamedTypeSymbol? IDbCommand { get; }

    /// <summary>The symbols of a compilation that references Durable.Actors; null for any other compilation.</summary>
    public static KnownSymbols? TryCreate(Compilation compilation)
    {
        var context = compilation.GetTypeByMetadataName("Durable.Actors.IWorkflowContext");
        var workflow = compilation.GetTypeByMetadataName("Durable.Actors.IWorkflow`2");
        return context is null || workflow is null ? null : new KnownSymbols(compilation, context, workflow);
    }

    /// <summary>Whether <paramref name="type"/> is the workflow context.</summary>
    public bool IsContext(ITypeSymbol? type) => SymbolEqualityComparer.Default.Equals(type, WorkflowContext);

    /// <summary>Whether <paramref name="method"/> is a durable operation: a method of the context or of its extensions.</summary>
    public bool IsDurableOperation(IMethodSymbol method) =>
        method.MethodKind != MethodKind.PropertyGet
        && (Is(method.ContainingType, WorkflowContext) || Is(method.ContainingType, ContextExtensions));

    /// <summary>Whether <paramref name="method"/> runs a step (<c>StepAsync</c>, on the context or an extension overload).</summary>
    public bool IsStep(IMethodSymbol method) => method.Name == "StepAsync" && IsDurableOperation(method);

    public static bool Is(ITypeSymbol? type, ITypeSymbol? known) =>
        known is not null && SymbolEqualityComparer.Default.Equals(type?.OriginalDefinition, known);

    public static bool DerivesFrom(ITypeSymbol? type, ITypeSymbol? known)
    {
        if (known is null)
            return false;
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, known))
                return true;
        }
        return false;
    }
}
