using Durable.Actors.Journal;
using Durable.Actors.Runtime;
using Durable.Actors.Storage;
using Durable.Actors.Versioning;
using Microsoft.Data.Sqlite;

namespace Durable.Actors;

/// <summary>
/// Checks, offline, that the workflows recorded in a database still replay on the current code: run this before you
/// deploy a change to a workflow (see README.md in this folder).
/// </summary>
public static class WorkflowReplayChecker
{
    /// <summary>
    /// Replays every unfinished workflow of <paramref name="databasePath"/> (or every workflow, with
    /// <see cref="ReplayCheckOptions.IncludeFinished"/>) against the code registered in <paramref name="registry"/>,
    /// serving recorded results and running no step body, and reports per workflow whether the code still asks for
    /// the recorded steps, waits and parallel blocks in order, as far as each record goes.
    /// </summary>
    /// <param name="databasePath">The engine's SQLite file. It is opened read-only and never written.</param>
    /// <param name="registry">The current code's workflow types (with the JSON options the host uses).</param>
    /// <param name="options">What to check; null for the defaults.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <returns>One result per workflow, grouped divergences, and the patch report.</returns>
    /// <remarks>
    /// A workflow whose type is not registered, whose input no longer reads as its input type, or whose events cannot be
    /// read is reported as such and the check goes on. Throws <see cref="DatabaseUnavailableException"/> when the file
    /// is missing, not SQLite, damaged (it scans every page first, with SQLite's <c>PRAGMA quick_check</c>) or has no
    /// journal of this engine.
    /// </remarks>
    public static async Task<ReplayCheckReport> CheckAsync(
        string databasePath, WorkflowRegistry registry, ReplayCheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        ArgumentNullException.ThrowIfNull(registry);
        options ??= new ReplayCheckOptions();
        var path = Path.GetFullPath(databasePath);
        var journals = await Task.Run(() => Read(path), cancellationToken).ConfigureAwait(false);

        var results = new List<WorkflowReplayResult>();
        var oldPath = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var newPath = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var readable = journals.Where(j => j.Value.Journal is not null).ToDictionary(j => j.Key, j => j.Value.Journal!, StringComparer.Ordinal);
        foreach (var (id, (journal, unreadable)) in journals)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (journal is null)
            {
                results.Add(new WorkflowReplayResult(id, "", WorkflowRunStatus.Running, ReplayVerdict.JournalUnreadable, unreadable!)
                {
                    Divergence = "journal events that cannot be read",
                });
                continue;
            }
            if (!journal.Exists || journal.IsFinal && !options.IncludeFinished)
                continue;
            var (result, run) = await CheckOneAsync(id, journal, readable, registry, options.WorkflowTimeout, cancellationToken).ConfigureAwait(false);
            results.Add(result);
            if (run is null || journal.IsFinal)
                continue;
            foreach (var (patchId, old) in run.OldPathByPatch)
            {
                (old ? oldPath : newPath).TryAdd(patchId, []);
                (old ? oldPath : newPath)[patchId].Add(id);
            }
        }
        var patches = oldPath.Keys.Union(newPath.Keys).Order(StringComparer.Ordinal)
            .Select(p => new PatchUsage(p, oldPath.GetValueOrDefault(p) ?? [], newPath.GetValueOrDefault(p) ?? []))
            .ToList();
        return new ReplayCheckReport(path, results, patches);
    }

    private static async Task<(WorkflowReplayResult Result, ReplayRun? Run)> CheckOneAsync(
        string id, WorkflowJournal journal, IReadOnlyDictionary<string, WorkflowJournal> all, WorkflowRegistry registry, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var type = journal.WorkflowType!;
        WorkflowReplayResult Result(ReplayVerdict verdict, string detail, string? divergence = null) =>
            new(id, type, journal.Status, verdict, detail) { Divergence = divergence };

        if (!registry.TryGet(type, out var definition))
            return (Result(ReplayVerdict.TypeNotRegistered,
                $"workflow type '{type}' is not registered (registered: {string.Join(", ", registry.WorkflowTypes.Order(StringComparer.Ordinal))})",
                $"workflow type '{type}' is not registered"), null);
        if (definition.ValidateInput(journal.InputJson, registry.JsonOptions) is { } inputError)
            return (Result(ReplayVerdict.InputUnreadable, $"the recorded input {journal.InputJson} no longer reads: {inputError}",
                $"{type}: the recorded input no longer reads as the input type"), null);

        var run = new ReplayRun(id, type, journal, all, registry.JsonOptions);
        var top = new ReplayContext(run, scope: "");
        var running = Task.Run(() => definition.RunAsync(top, journal.InputJson, registry.JsonOptions), cancellationToken);
        using var timedOut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(timeout, timedOut.Token);
        await Task.WhenAny(running, top.Blocked, deadline).ConfigureAwait(false);
        await timedOut.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        WorkflowReplayResult result;
        if (run.Divergence is { } divergence)
            result = Result(ReplayVerdict.Incompatible, divergence.Detail, divergence.Group) with { Key = divergence.Key };
        else if (running.IsCompleted)
        {
            var ending = running.IsCompletedSuccessfully ? "the code returns"
                : running.IsCanceled ? "the code throws OperationCanceledException"
                : $"the code throws {ErrorText.Of(running.Exception!.GetBaseException())}";
            result = run.FirstUnasked() is var (key, what)
                ? Result(ReplayVerdict.Incompatible, $"{ending} without asking for {what} recorded at {key}",
                    $"{type} at key {key[(id.Length + 1)..]}: {ending} without asking for the recorded {what}") with { Key = key }
                : Result(ReplayVerdict.Compatible, $"{run.Replayed} records replay in order, and {ending}");
        }
        else if (top.IsBlocked)
            result = Result(ReplayVerdict.Compatible, $"{run.Replayed} records replay in order; {run.End ?? "the record ends"}");
        else
            result = Result(ReplayVerdict.Incompatible,
                $"the replay did not settle within {timeout.TotalSeconds:0.#}s after {run.Replayed} records: the code awaits something other than its context",
                $"{type}: the replay did not settle (the code awaits something other than its context)");
        return (result with { Notes = run.Notes }, run);
    }

    /// <summary>Every workflow's journal, by id, read on a read-only connection; an unreadable one with the reason.</summary>
    private static SortedDictionary<string, (WorkflowJournal? Journal, string? Unreadable)> Read(string path)
    {
        if (Directory.Exists(path))
            throw new DatabaseUnavailableException(path, $"Database path '{path}' is a folder, not a SQLite database file.");
        if (!File.Exists(path))
            throw new DatabaseUnavailableException(path, $"Database file '{path}' does not exist.");
        string? copy = null;
        try
        {
            using var connection = OpenUnchanged(path, out copy);
            var tables = SqliteDatabase.Tables(connection, path);
            // The whole-file scan the CLI's reading commands leave out (they read only the pages they need): here, where
            // every journal row is read anyway.
            SqliteDatabase.EnsureIntact(connection, path);
            if (!tables.Contains("journal", StringComparer.OrdinalIgnoreCase))
                throw new DatabaseUnavailableException(path, tables.Count == 0
                    ? $"'{path}' has no tables: it holds no Durable.Actors journal."
                    : $"'{path}' is not a Durable.Actors database: it has no journal table (it has {SqliteDatabase.Describe(tables)}).");
            return ReadJournals(connection, path);
        }
        finally
        {
            if (copy is not null)
                Directory.Delete(copy, recursive: true);
        }
    }

    /// <summary>
    /// A read-only connection that changes no byte of the database's files. Without a <c>-wal</c> file (no host has the
    /// database open, and the last one checkpointed), the file is opened as immutable: SQLite then creates no
    /// <c>-wal</c>/<c>-shm</c> and takes no lock. With one, even a read-only connection would rewrite SQLite's
    /// shared-memory index (<c>-shm</c>), so the database and its WAL are copied to a temp folder (<paramref name="copy"/>) and read there.
    /// </summary>
    private static SqliteConnection OpenUnchanged(string path, out string? copy)
    {
        copy = null;
        string source;
        if (File.Exists(path + "-wal"))
        {
            copy = Path.Combine(Path.GetTempPath(), "durable-actors-check-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(copy);
            source = Path.Combine(copy, "journal.db");
            File.Copy(path, source);
            File.Copy(path + "-wal", source + "-wal");
        }
        else
            source = new Uri(path).AbsoluteUri + "?immutable=1";
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = source,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new DatabaseUnavailableException(path, $"Cannot read database file '{path}': {e.Message}", e);
        }
    }

    private static SortedDictionary<string, (WorkflowJournal? Journal, string? Unreadable)> ReadJournals(SqliteConnection connection, string path)
    {
        var journals = new SortedDictionary<string, (WorkflowJournal?, string?)>(StringComparer.Ordinal);
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT persistence_id, sequence_number, message, manifest, identifier FROM journal
                WHERE deleted = 0 AND persistence_id LIKE 'workflow-%' ORDER BY persistence_id, sequence_number
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetString(0)[WorkflowActor.PersistenceIdPrefix.Length..];
                if (!journals.TryGetValue(id, out var entry))
                    journals[id] = entry = (new WorkflowJournal(), null);
                if (entry.Item1 is not { } journal)
                    continue;
                var sequence = reader.GetInt64(1);
                var identifier = reader.IsDBNull(4) ? (int?)null : reader.GetInt32(4);
                var manifest = reader.IsDBNull(3) ? "" : reader.GetString(3);
                try
                {
                    if (identifier != JournalEventSerializer.Id)
                        throw new InvalidDataException($"it was written by serializer {identifier?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}, not by this engine's ({JournalEventSerializer.Id})");
                    journal.Apply(JournalEventSerializer.Read((byte[])reader.GetValue(2), manifest));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    journals[id] = (null, $"journal event {sequence} ('{manifest}') cannot be read: {e.Message}");
                }
            }
        }
        catch (SqliteException e)
        {
            throw new DatabaseUnavailableException(path, $"'{path}' has a journal table this engine cannot read: {e.Message}", e);
        }
        return journals;
    }
}
