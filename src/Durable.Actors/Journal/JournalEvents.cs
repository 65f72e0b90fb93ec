namespace Durable.Actors.Journal;

// Bound to JournalEventSerializer in hocon/durable-actors.conf.
internal interface IJournalEvent;

internal sealed record WorkflowStarted(string WorkflowType, string InputJson, DateTimeOffset At) : IJournalEvent;

// A parallel block reserved Count consecutive sequence numbers for its branches, the first being Key.
internal sealed record BranchesReserved(string Key, int Count, DateTimeOffset At) : IJournalEvent;

internal sealed record StepStarted(string Key, string StepId, int Attempt, DateTimeOffset At) : IJournalEvent;

internal sealed record StepCompleted(string Key, string ResultJson, DateTimeOffset At) : IJournalEvent;

internal sealed record StepFailed(string Key, string Error, DateTimeOffset At) : IJournalEvent;

// A run (the first one or a resume) returned a result.
internal sealed record RunCompleted(string ResultJson, DateTimeOffset At) : IJournalEvent;

internal sealed record RunFailed(string Error, DateTimeOffset At) : IJournalEvent;
