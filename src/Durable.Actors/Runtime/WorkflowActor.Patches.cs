namespace Durable.Actors.Runtime;

// Versioning: a patch marker is a completed step at the call's key (the decider's rules). The run decides a patch on
// its copy of the journal (Decisions.RunHistory); the actor writes the marker of a patch that takes the new path where
// nothing is recorded.
internal sealed partial class WorkflowActor
{
    private void OnBeginPatch(BeginPatch begin)
    {
        if (IsCurrent(begin.RunId, begin.Reply))
            Write(begin.Events, () => begin.Reply.TrySetResult(true));
    }
}
