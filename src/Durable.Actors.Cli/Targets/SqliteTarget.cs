using Akka.Actor;
using Durable.Actors.Cli.Hosting;
using Durable.Actors.Inspection;
using Durable.Actors.Journal;
using Durable.Actors.Samples.Onboarding;
using Durable.Actors.Storage;

namespace Durable.Actors.Cli.Targets;

/// <summary>The SQLite file of <c>--db</c>: read directly where it can be, run on by an engine in this process.</summary>
internal sealed class SqliteTarget : Target
{
    private SqliteTarget(string database) => Database = database;

    /// <summary>The file's full path.</summary>
    public string Database { get; }

    public override string Description => $"database '{Database}'";

    /// <summary>
    /// Resolves the path and refuses, before anything touches the disk, what <paramref name="use"/> cannot work on: a file
    /// that is not a sound SQLite database (scanned whole: the commands that check it write to it), a database that does
    /// not exist when the command needs one, a database without the engine's journal for a command that reads one, and
    /// another application's database for a command that would add the journal to it, unless allowed. A read-only use
    /// is checked when it reads (<see cref="ReadAsync{T}"/>), cheaply.
    /// </summary>
    public static SqliteTarget Of(string path, DatabaseUse use)
    {
        var database = Path.GetFullPath(path);
        if (!use.Checked)
            return new SqliteTarget(database);
        SqliteDatabase.EnsureSqliteOrAbsent(database);
        if (!File.Exists(database))
        {
            if (use.MustExist)
                throw Missing(database, use.WorkflowId);
            return new SqliteTarget(database);
        }

        SqliteDatabase.EnsureIntact(database);
        var tables = SqliteDatabase.Tables(database);
        if (use.Reading && !SqliteDatabase.HasJournalTable(tables))
            throw NoJournal(database, tables);
        if (!use.Reading && !use.AllowForeign && tables.Count > 0 && !SqliteDatabase.HasJournalTable(tables))
            throw new UsageException(
                $"'{database}' is another application's SQLite database (tables: {SqliteDatabase.Describe(tables)}); it was left untouched. " +
                "Use another --db, or --allow-foreign-database to add the journal tables to it");
        return new SqliteTarget(database);
    }

    /// <summary>The samples, with their effects log beside the database unless <c>--effects</c> names one.</summary>
    public override WorkflowRegistry Registry(string? effectsLog) =>
        SampleWorkflows.Register(new WorkflowRegistry(),
            new EffectsLog(effectsLog ?? Path.Combine(Path.GetDirectoryName(Database)!, "effects.log")));

    public override Task<(WorkflowStatus Status, IReadOnlyList<WaitRecord> Waits)?> ReadHistoryAsync(string workflowId, CancellationToken cancellationToken) =>
        ReadAsync(workflowId,
            file => file.Read(workflowId) is { } journal ? (journal.ToStatus(workflowId), journal.Waits()) : ((WorkflowStatus, IReadOnlyList<WaitRecord>)?)null,
            system => HostReads.HistoryAsync(system, workflowId, cancellationToken));

    public override async Task<ListedPage> ReadPageAsync(WorkflowQuery query, bool details, CancellationToken cancellationToken)
    {
        SqliteDatabase.EnsureNotFolder(Database);
        // A database not created yet lists no workflows; one whose folder does not exist is a wrong --db, as start says.
        if (!File.Exists(Database) && Path.GetDirectoryName(Database) is { } folder && !Directory.Exists(folder))
            throw new UsageException($"database '{Database}' does not exist: there is no folder '{folder}'");
        if (!File.Exists(Database))
            return ListedPage.Empty;
        return await ReadAsync(workflowId: null, file =>
        {
            var page = file.Page(query) ?? throw new NotSupportedException("The database has no workflow index yet.");
            if (!details)
                return ListedPage.Empty with { Page = page };
            // The index keeps when a wait is due, not what it waits for: each running workflow's journal says it, as for
            // `status` (one indexed read per running workflow of the page).
            var waits = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var w in page.Items.Where(w => w.Status.IsActive()))
            {
                if (file.Read(w.WorkflowId)?.WaitingFor() is { } waitingFor)
                    waits[w.WorkflowId] = waitingFor;
            }
            return new ListedPage(page, file.Results(page.Items.Where(w => w.Status == WorkflowRunStatus.Completed).Select(w => w.WorkflowId)), waits);
        }, system => HostReads.PageAsync(system, query, details, cancellationToken));
    }

    public override Task<Session> OpenAsync(WorkflowRegistry registry, EngineOptions options, CancellationToken cancellationToken) =>
        Task.FromResult<Session>(new SqliteSession(
            CliHost.Create(Database, options.StaleTimeout, options.BusyTimeout, options.AllowForeignDatabase), registry, Description));

    /// <summary>
    /// What <c>status</c>, <c>history</c> and <c>list</c> read from an existing SQLite file: read directly, with no
    /// ActorSystem, writing nothing, after a check of SQLite's header and the schema only (not a scan of every page:
    /// that is <c>check</c>'s). Only a file that needs a host is read through one: events of another serializer, or a
    /// database without the workflow index (a host builds it), which <paramref name="read"/> says by throwing
    /// <see cref="NotSupportedException"/>.
    /// </summary>
    private async Task<T> ReadAsync<T>(string? workflowId, Func<JournalFile, T> read, Func<ActorSystem, Task<T>> throughHost)
    {
        SqliteDatabase.EnsureNotFolder(Database);
        try
        {
            while (true)
            {
                if (!File.Exists(Database))
                    throw Missing(Database, workflowId);
                using var file = JournalFile.Open(Database);
                if (!file.HasJournal)
                    throw NoJournal(Database, file.Tables);
                var result = read(file);
                // A host opened the file while it was read as immutable: read again, with the host's WAL.
                if (file.IsCurrent)
                    return result;
            }
        }
        catch (NotSupportedException)
        {
            await using var host = CliHost.Create(Database);
            return await throughHost(host.System);
        }
    }

    private static UsageException Missing(string database, string? workflowId) => new(workflowId is null
        ? $"database '{database}' does not exist"
        : $"unknown workflow '{workflowId}': database '{database}' does not exist");

    private static UsageException NoJournal(string database, IReadOnlyList<string> tables) => new(tables.Count == 0
        ? $"'{database}' has no Durable.Actors journal: it is an empty SQLite database (no workflow was ever started in it)"
        : $"'{database}' has no Durable.Actors journal: it is another application's SQLite database (tables: {SqliteDatabase.Describe(tables)})");

    /// <summary>The engine in this process, on the file.</summary>
    private sealed class SqliteSession(CliHost host, WorkflowRegistry registry, string description) : Session(host.System, description)
    {
        public override bool Resends => false;

        public override Task BeginAsync(IWorkflowObserver observer, CancellationToken cancellationToken)
        {
            DurableWorkflows.Start(System, registry, observer);
            return Task.CompletedTask;
        }

        protected override Task<T> ReadAsync<T>(Func<Task<T>> read, T empty) => read();

        public override ValueTask DisposeAsync() => host.DisposeAsync();
    }
}
