using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Serialization;
using Akka.Util;
using Durable.Actors.Journal;
using Durable.Actors.Runtime;

namespace Durable.Actors.Storage;

/// <summary>
/// Akka.Persistence.Sql's rows from a journal's atomic writes, with each workflow event's change to the workflow index
/// (<see cref="WorkflowIndex.Change"/>): what the engine's own write journals (SQLite's, and PostgreSQL's in cluster
/// mode) hand to their group-committing writers.
/// </summary>
internal static class JournalRows
{
    /// <summary>
    /// The rows of <paramref name="writes"/>; an atomic write whose payload cannot be serialized is left out and
    /// rejected alone (Akka's contract), in <paramref name="rejected"/> (null when none is).
    /// </summary>
    public static List<JournalRow> From(
        Akka.Serialization.Serialization serialization, IReadOnlyList<AtomicWrite> writes, string writerUuid, out Exception?[]? rejected)
    {
        var now = DateTime.UtcNow.Ticks;
        var rows = new List<JournalRow>();
        rejected = null;
        for (var i = 0; i < writes.Count; i++)
        {
            var start = rows.Count;
            try
            {
                foreach (var persistent in (IEnumerable<IPersistentRepresentation>)writes[i].Payload)
                    rows.Add(ToRow(serialization, persistent, now, writerUuid));
            }
            catch (Exception e)
            {
                rows.RemoveRange(start, rows.Count - start);
                (rejected ??= new Exception?[writes.Count])[i] = e;
            }
        }
        return rows;
    }

    /// <summary>Null when every atomic write was persisted; otherwise one entry per write, null where it was persisted.</summary>
    public static async Task<IImmutableList<Exception>> Finish(Task written, Exception?[]? rejected)
    {
        await written.ConfigureAwait(false);
        return rejected?.ToImmutableList()!;
    }

    /// <summary>
    /// The rows of one atomic write of <paramref name="payloads"/> (events, tagged or not) by <paramref name="persistenceId"/>,
    /// numbered from <paramref name="firstSequenceNr"/>. Throws when a payload cannot be serialized.
    /// </summary>
    public static List<JournalRow> From(
        Akka.Serialization.Serialization serialization, string persistenceId, long firstSequenceNr, IReadOnlyList<object> payloads, string writerUuid)
    {
        var now = DateTime.UtcNow.Ticks;
        var rows = new List<JournalRow>(payloads.Count);
        for (var i = 0; i < payloads.Count; i++)
            rows.Add(ToRow(serialization, persistenceId, firstSequenceNr + i, payloads[i], now, writerUuid));
        return rows;
    }

    private static JournalRow ToRow(Akka.Serialization.Serialization serialization, IPersistentRepresentation persistent, long now, string writerUuid) =>
        ToRow(serialization, persistent.PersistenceId, persistent.SequenceNr, persistent.Payload, persistent.Timestamp == 0 ? now : persistent.Timestamp, writerUuid);

    private static JournalRow ToRow(
        Akka.Serialization.Serialization serialization, string persistenceId, long sequenceNr, object payload, long created, string writerUuid)
    {
        string[] tags = [];
        if (payload is Tagged tagged)
        {
            payload = tagged.Payload;
            tags = [.. tagged.Tags];
        }
        var serializer = serialization.FindSerializerFor(payload);
        var manifest = serializer switch
        {
            SerializerWithStringManifest withManifest => withManifest.Manifest(payload),
            { IncludeManifest: true } => payload.GetType().TypeQualifiedName(),
            _ => "",
        };
        return new JournalRow(
            persistenceId,
            sequenceNr,
            created,
            serializer.ToBinary(payload),
            manifest,
            serializer.Identifier,
            writerUuid,
            tags,
            IndexChange(persistenceId, payload));
    }

    /// <summary>What a workflow's event changes in the workflow index, written in the same transaction as the event.</summary>
    private static WorkflowIndexChange? IndexChange(string persistenceId, object payload) =>
        payload is IJournalEvent e && persistenceId.StartsWith(WorkflowActor.PersistenceIdPrefix, StringComparison.Ordinal)
            ? WorkflowIndex.Change(persistenceId[WorkflowActor.PersistenceIdPrefix.Length..], e)
            : null;
}
