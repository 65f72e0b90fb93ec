using Durable.Actors.Journal;

namespace Durable.Actors.Storage;

/// <summary>
/// One journal row in Akka.Persistence.Sql's layout, with the tags that go to its tag table and the change its event
/// makes to the workflow index (applied in the same transaction): what the engine's write journals hand to the
/// <see cref="JournalWriter"/>.
/// </summary>
internal sealed record JournalRow(
    string PersistenceId, long SequenceNr, long Created, byte[] Message, string Manifest, int Identifier, string WriterUuid, string[] Tags,
    WorkflowIndexChange? Index = null);
