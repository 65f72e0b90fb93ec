using Durable.Actors.Decisions;

namespace Durable.Actors.Runtime;

// Versioning: a patch marker is a completed step at the call's key (the decider's rules). A run that asks for anything
// else where a marker is recorded steps over it (the patch call was removed); everywhere else the determinism guard
// stays strict.
internal sealed partial class WorkflowActor
{
    /// <summary>Reserves the next <paramref name="count"/> keys of <paramref name="scope"/>, stepping over recorded patch markers first.</summary>
    private int ReserveKeys(string scope, int count) => _run!.Decider.Reserve(scope, count);

    private void OnBeginPatch(BeginPatch begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var decision = _run!.Decider.DecidePatch(begin.Scope, begin.PatchId, Now);
        switch (decision.Outcome)
        {
            case PatchOutcome.Recorded:
                Write([], () => begin.Reply.TrySetResult(true));
                break;
            case PatchOutcome.OldPath:
                // Recorded by the old code: the old path, and the key stays for what the old path asks for next.
                Write([], () => begin.Reply.TrySetResult(false));
                break;
            default:
                // The new path: its marker, a completed step at the call's key.
                Write(decision.Events, () => begin.Reply.TrySetResult(true));
                break;
        }
    }
}
