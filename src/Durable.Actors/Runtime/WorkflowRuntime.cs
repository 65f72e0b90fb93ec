using Durable.Actors.Configuration;

namespace Durable.Actors.Runtime;

/// <summary>What every workflow actor of one host shares.</summary>
/// <remarks><c>AloneSince</c>: when this host found no other host alive on its database (see <c>HostLease</c>).</remarks>
internal sealed record WorkflowRuntime(
    DurableSettings Settings,
    WorkflowRegistry Registry,
    IWorkflowObserver? Observer,
    TimeProvider Clock,
    DateTimeOffset? AloneSince)
{
    public void Report(StepReport report)
    {
        try
        {
            Observer?.OnStep(report);
        }
        catch
        {
            // An observer must never break a workflow; IWorkflowObserver says not to throw.
        }
    }
}
