using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using Durable.Actors.Storage;
using LinqToDB;

namespace Durable.Actors.Configuration;

/// <summary>
/// The Akka.Persistence.Sql plugins the engine stores workflows in, configured from <see cref="DurableSettings"/>: for
/// SQLite (the default storage profile), or Akka.Persistence.Sql's own journal on another database (<c>storage = sql</c>).
/// They live under their own paths so they never touch an application's own Akka.Persistence.Sql plugins.
/// </summary>
internal static class PersistencePlugins
{
    public const string JournalPath = "durable-actors.persistence.journal";
    public const string SnapshotPath = "durable-actors.persistence.snapshot-store";
    public const string QueryPath = "durable-actors.persistence.query";

    public static Config ToConfig(DurableSettings settings)
    {
        if (settings.Storage == StorageProfile.Sql)
            return ToSqlConfig(settings);
        var cs = DurableWorkflowsOptions.Quote(settings.ConnectionString);
        // read-uncommitted makes the plugin's read transactions deferred BEGINs (real WAL readers) instead of
        // BEGIN IMMEDIATE, which would serialize queries with writes; nothing dirty is read without shared cache.
        // Journal writes and recovery reads do not go through the plugin (see Storage/SqliteWriteJournal).
        return ConfigurationFactory.ParseString($$"""
            {{JournalPath}} {
              # The plugin's journal with a group-committing write path (Storage/SqliteWriteJournal).
              class = "Durable.Actors.Storage.SqliteWriteJournal, Durable.Actors"
              plugin-id = "{{JournalPath}}"
              plugin-dispatcher = "akka.persistence.dispatchers.default-plugin-dispatcher"
              provider-name = "SQLite.MS"
              connection-string = {{cs}}
              read-isolation-level = read-uncommitted
              # The engine creates the tables itself before the first workflow starts (Storage/SqliteDatabase).
              auto-initialize = off
              # Akka's journal circuit breaker, off (it opens only after this many failures in a row): it counted the
              # failures of every workflow together, so ten failed writes (one workflow's conflicting write, a disk
              # full for a moment) made every workflow's writes and recovery reads, even those that would succeed,
              # fail for reset-timeout with "Circuit Breaker is open" instead of their cause. A local SQLite file
              # fails fast on its own, and each workflow's supervisor already backs off and gives up.
              circuit-breaker.max-failures = 2147483647
            }
            # Workflow actors take no snapshots, so recovery asks a store that answers "none" at once instead of
            # querying an always-empty table (that query was a seventh of the CPU of starting 500 workflows).
            {{SnapshotPath}} {
              class = "Akka.Persistence.Snapshot.NoSnapshotStore, Akka.Persistence"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
            {{QueryPath}} {
              class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
              plugin-id = "{{QueryPath}}"
              write-plugin = "{{JournalPath}}"
              provider-name = "SQLite.MS"
              connection-string = {{cs}}
              read-isolation-level = read-uncommitted
              # Current queries by tag wait for the journal sequence actor to reach the highest ordering; these
              # intervals bound how long recovery-on-start waits for it (the defaults are 1 s each).
              refresh-interval = 50ms
              journal-sequence-retrieval {
                query-delay = 50ms
                ask-timeout = 10s
              }
            }
            """);
    }

    /// <summary>
    /// Akka.Persistence.Sql's journal and read journal on another database, under the engine's plugin paths. None of the
    /// SQLite machinery: the plugin reads, its tables are created on first use, and the lifecycle tag goes to its tag
    /// table. The journal's class is the plugin's own unless <c>sql.journal-class</c> names one derived from it (cluster
    /// mode on PostgreSQL: its writes keep the workflow index, and it creates the tables itself).
    /// </summary>
    private static Config ToSqlConfig(DurableSettings settings)
    {
        var cs = DurableWorkflowsOptions.Quote(settings.SqlConnectionString);
        var provider = DurableWorkflowsOptions.Quote(settings.SqlProviderName);
        var journalClass = DurableWorkflowsOptions.Quote(settings.SqlJournalClass is { Length: > 0 } given
            ? given
            : "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql");
        return ConfigurationFactory.ParseString($$"""
            {{JournalPath}} {
              # The plugin's own journal, or one derived from it (sql.journal-class: cluster mode's on PostgreSQL).
              class = {{journalClass}}
              plugin-id = "{{JournalPath}}"
              plugin-dispatcher = "akka.persistence.dispatchers.default-plugin-dispatcher"
              provider-name = {{provider}}
              connection-string = {{cs}}
              auto-initialize = on
              tag-write-mode = TagTable
              # Off, as for SQLite: the breaker counts every workflow's failures together and, once open, fails every
              # write and read for its reset timeout even after the database is back; each workflow's supervisor backs off.
              circuit-breaker.max-failures = 2147483647
            }
            {{SnapshotPath}} {
              class = "Akka.Persistence.Snapshot.NoSnapshotStore, Akka.Persistence"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
            {{QueryPath}} {
              class = "Akka.Persistence.Sql.Query.SqlReadJournalProvider, Akka.Persistence.Sql"
              plugin-id = "{{QueryPath}}"
              write-plugin = "{{JournalPath}}"
              provider-name = {{provider}}
              connection-string = {{cs}}
              tag-read-mode = TagTable
              refresh-interval = 200ms
              journal-sequence-retrieval {
                query-delay = 100ms
                ask-timeout = 10s
              }
            }
            """);
    }

    /// <summary>
    /// An empty setup for the plugins' data options, filled by <see cref="Bind"/> from the ActorSystem's own settings
    /// once it exists. Akka.Hosting composes the final configuration only when it creates the system, after every
    /// extension has added its HOCON and setups, so options known when <c>WithDurableWorkflows</c> runs may not be the
    /// ones the system ends up with (a database path set in the application's HOCON, say).
    /// </summary>
    public static Setup ToSetup() => new MultiDataOptionsSetup();

    /// <summary>The setup for the plugins' data options, filled from <paramref name="settings"/> at once.</summary>
    public static Setup ToSetup(DurableSettings settings)
    {
        var setup = new MultiDataOptionsSetup();
        Fill(setup, settings);
        return setup;
    }

    // The setups already filled from their system's settings.
    private static readonly ConditionalWeakTable<MultiDataOptionsSetup, object> Bound = new();

    /// <summary>
    /// Gives the journal and query plugins data options built from the system's final configuration (the one source
    /// of truth the journal's writes and the database checks also read), before either plugin starts. Every entry
    /// point that may start them calls it first: <see cref="DurableWorkflows.Start(ActorSystem, WorkflowRegistry, IWorkflowObserver?)"/>
    /// and the reads. Idempotent: the first call fills the setup (before any plugin reads it), later calls change nothing.
    /// </summary>
    /// <returns>The system's settings.</returns>
    public static DurableSettings Bind(ActorSystem system)
    {
        var settings = DurableSettings.Create(system);
        // No such setup: the application built the system without ours, and the plugins read their HOCON.
        if (system.Settings.Setup.Get<MultiDataOptionsSetup>() is { HasValue: true } found)
        {
            var setup = found.Value;
            lock (setup)
            {
                if (!Bound.TryGetValue(setup, out _))
                {
                    Fill(setup, settings);
                    Bound.Add(setup, settings);
                }
            }
        }
        return settings;
    }

    /// <summary>
    /// Data options that open the configured database: on SQLite with the per-connection PRAGMAs on every open; on
    /// another database (<c>storage = sql</c>) the provider and connection string of <c>durable-actors.sql</c>, so that
    /// the plugin's reads (replays, queries) go where the engine's own writes and index reads go, whatever HOCON the
    /// plugin's section was written from.
    /// </summary>
    private static void Fill(MultiDataOptionsSetup setup, DurableSettings settings)
    {
        if (settings.Storage != StorageProfile.Sqlite)
        {
            var sql = new DataOptions().UseConnectionString(settings.SqlProviderName, settings.SqlConnectionString);
            setup.AddDataOptions(JournalPath, sql);
            setup.AddDataOptions(QueryPath, sql);
            return;
        }
        var options = new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, settings.ConnectionString)
            .UseInterceptor(new SqliteConnectionInterceptor(settings.Synchronous, settings.BusyTimeout));
        setup.AddDataOptions(JournalPath, options);
        setup.AddDataOptions(QueryPath, options);
    }
}
