using System.Diagnostics;

namespace Durable.Actors.Cli.Output;

/// <summary>
/// Prints one line per step (<c>key stepId executed|replayed|failed</c>), and for <c>crash-after N</c> kills the
/// process once the N-th step of the run has its IN_PROGRESS record durable, before its body runs.
/// </summary>
internal sealed class ConsoleObserver(int? crashAfter) : IWorkflowObserver
{
    private readonly Lock _gate = new();
    private int _ordinal;

    public void OnStep(StepReport report)
    {
        lock (_gate)
        {
            switch (report.Kind)
            {
                case StepReportKind.Starting:
                    if (++_ordinal == crashAfter)
                        Crash(report);
                    break;
                case StepReportKind.Replayed:
                    ++_ordinal;
                    Console.WriteLine($"{report.Key} {report.StepId} replayed");
                    break;
                case StepReportKind.Executed:
                    Console.WriteLine($"{report.Key} {report.StepId} executed");
                    break;
                case StepReportKind.Failed:
                    Console.WriteLine($"{report.Key} {report.StepId} failed: {report.Detail}");
                    break;
                case StepReportKind.Waiting:
                    Console.WriteLine($"{report.Key} {report.StepId} waiting: {report.Detail}");
                    break;
            }
        }
    }

    public void ReportCrashNotReached()
    {
        if (crashAfter is { } n && _ordinal < n)
            Console.Error.WriteLine($"crash-after: the run has {_ordinal} steps, fewer than {n}; no crash");
        else if (crashAfter is { } m)
            Console.Error.WriteLine($"crash-after: step {m} replayed (it had completed before); no crash");
    }

    private static void Crash(StepReport report)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"crash-after: killing the process at step {report.Key} {report.StepId}; its IN_PROGRESS record is durable, its body has not run");
        Console.Error.Flush();
        // SIGKILL to ourselves: no graceful shutdown, no finally blocks, nothing flushed by the engine.
        Process.GetCurrentProcess().Kill();
    }
}
