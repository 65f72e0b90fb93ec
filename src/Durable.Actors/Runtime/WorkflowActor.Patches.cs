using Durable.Actors.Journal;

namespace Durable.Actors.Runtime;

// Versioning: a patch marker is a completed step at the call's key. A run that asks for anything else where a marker
// is recorded steps over it (the patch call was removed); everywhere else the determinism guard stays strict.
internal sealed partial class WorkflowActor
{
    /// <summary>Reserves the next <paramref name="count"/> keys of <paramref name="scope"/>, stepping over recorded patch markers first.</summary>
    private int ReserveKeys(string scope, int count)
    {
        while (_journal.HasPatchMarkers && _journal.TryGetStep(StepKeys.Of(_workflowId, scope, _run!.Peek(scope)), out var step) && PatchMarkers.IsMarker(step.StepId))
            _run.Reserve(scope, 1);
        return _run!.Reserve(scope, count);
    }

    private void OnBeginPatch(BeginPatch begin)
    {
        if (!IsCurrent(begin.RunId, begin.Reply))
            return;
        var marker = PatchMarkers.StepId(begin.PatchId);
        while (true)
        {
            var key = StepKeys.Of(_workflowId, begin.Scope, _run!.Peek(begin.Scope));
            if (_journal.TryGetStep(key, out var step))
            {
                if (step.StepId == marker)
                {
                    _run.Reserve(begin.Scope, 1);
                    Write([], () => begin.Reply.TrySetResult(true));
                    return;
                }
                if (PatchMarkers.IsMarker(step.StepId))
                {
                    // The marker of a patch whose call the code no longer makes.
                    _run.Reserve(begin.Scope, 1);
                    continue;
                }
            }
            if (step is not null || _journal.TryGetWait(key, out _) || _journal.IsBranchKey(key))
            {
                // Recorded by the old code: the old path, and the key stays for what the old path asks for next.
                Write([], () => begin.Reply.TrySetResult(false));
                return;
            }
            _run.Reserve(begin.Scope, 1);
            Write([new StepStarted(key, marker, 1, Now), new StepCompleted(key, "true", Now, TypeNames.For<bool>())],
                () => begin.Reply.TrySetResult(true));
            return;
        }
    }
}
