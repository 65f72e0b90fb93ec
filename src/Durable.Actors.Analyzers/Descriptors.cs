using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Durable.Actors.Analyzers;

/// <summary>The diagnostics: one id per kind of call that breaks a workflow's replay.</summary>
internal static class Descriptors
{
    public const string NondeterministicValueId = "DURABLE0001";
    public const string WaitOutsideEngineId = "DURABLE0002";
    public const string IoOutsideStepId = "DURABLE0003";
    public const string ThreadOutsideEngineId = "DURABLE0004";
    public const string ConfigureAwaitFalseId = "DURABLE0005";
    public const string UnrecordedRaceId = "DURABLE0006";
    public const string DurableOperationInStepId = "DURABLE0007";
    public const string NonConstantStepIdId = "DURABLE0008";

    private const string Determinism = "Durable.Determinism";
    private const string Usage = "Durable.Usage";

    public static readonly DiagnosticDescriptor NondeterministicValue = new(
        NondeterministicValueId,
        "Workflow code reads the clock, a new id or a random number",
        "'{0}' gives another value when the workflow replays; use {1}",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Workflow code runs again from the top on every resume, so a value read from the clock, a new GUID or a random number differs between runs. The workflow context records these values on the first run and returns the recorded value on replay.");

    public static readonly DiagnosticDescriptor WaitOutsideEngine = new(
        WaitOutsideEngineId,
        "Workflow code waits outside the engine",
        "'{0}' waits outside the engine: the wait is not recorded and does not survive a restart; use {1}",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A delay or timer in workflow code starts again on every replay and keeps the workflow in memory. IWorkflowContext.SleepAsync journals the wake-up time, so a resumed workflow waits only for what is left and a long wait can leave memory.");

    public static readonly DiagnosticDescriptor IoOutsideStep = new(
        IoOutsideStepId,
        "Workflow code does I/O outside a step",
        "'{0}' does I/O outside a step: it runs again on every replay and its result is not recorded; wrap it in IWorkflowContext.StepAsync",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Network, file, database and console I/O in workflow code repeats on every replay and may return something else each time. In a step it runs until it completes once, and its result is recorded and replayed.");

    public static readonly DiagnosticDescriptor ThreadOutsideEngine = new(
        ThreadOutsideEngineId,
        "Workflow code starts work on another thread",
        "'{0}' runs work outside the workflow's recorded order; run it in a step (IWorkflowContext.StepAsync) or in parallel branches (IWorkflowContext.ParallelAsync)",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Work started on the thread pool or another thread runs in no order the engine records; durable operations called from it get sequence numbers in whatever order the threads run. Parallel branches reserve their sequence numbers before they start.");

    public static readonly DiagnosticDescriptor ConfigureAwaitFalse = new(
        ConfigureAwaitFalseId,
        "Workflow code uses ConfigureAwait(false)",
        "'{0}' in workflow code leaves the context the engine runs the workflow on; remove it or pass true",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Workflow code continues where the engine resumes it. ConfigureAwait(false) belongs in library code and in step bodies, not in the workflow method.");

    public static readonly DiagnosticDescriptor UnrecordedRace = new(
        UnrecordedRaceId,
        "Workflow code races tasks without recording the winner",
        "'{0}' races tasks, and the winner is not recorded, so a replay may take another branch; use IWorkflowContext.WhenAnyAsync, the timeout of WaitForSignalAsync, or race inside a step",
        Determinism,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The engine records which durable operation completed, not which of several finished first. A replay in which another task finishes first takes another branch and fails the nondeterminism check.");

    public static readonly DiagnosticDescriptor DurableOperationInStep = new(
        DurableOperationInStepId,
        "A durable operation is called inside a step body",
        "'{0}' is called inside a step body; durable operations belong to the workflow code around the step, so move it out of the body",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A step body is the side effect the engine records as one result. A step, sleep, signal wait, child workflow or recorded value started inside it is numbered while the body runs, and the body runs again when it fails, so the journal and the code no longer agree.");

    public static readonly DiagnosticDescriptor NonConstantStepId = new(
        NonConstantStepIdId,
        "A step id is not a constant",
        "The step id '{0}' is not a compile-time constant; use a constant name (steps in a loop get unique keys from their sequence number)",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A step's key comes from its sequence number; its id names it in the journal and is compared on replay. An id computed at run time can differ between runs and then fails the nondeterminism check.");

    public static ImmutableArray<DiagnosticDescriptor> All { get; } =
    [
        NondeterministicValue, WaitOutsideEngine, IoOutsideStep, ThreadOutsideEngine, ConfigureAwaitFalse, UnrecordedRace,
        DurableOperationInStep, NonConstantStepId,
    ];
}
