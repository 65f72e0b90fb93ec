using Akka.Actor.Setup;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// Test hooks of the SQLite storage, given to one ActorSystem with its setup
/// (<c>DurableWorkflows.CreateSetup(config).And(hooks)</c>): the journal's writer and the inspection reads of that
/// system use them. None in production. The properties may be set after the system started (a test sets what it needs
/// when it needs it).
/// </summary>
internal sealed class StorageHooks : Setup
{
    /// <summary>Runs on the writer's connection before each transaction (to lower a SQLite limit, say).</summary>
    public Action<SqliteConnection>? BeforeTransaction { get; set; }

    /// <summary>
    /// Told of each read of one workflow, <c>("index", id)</c> for its index row and <c>("journal", id)</c> for its
    /// events, and of each page listed, <c>("list", status)</c> (the status filtered on, or empty).
    /// </summary>
    public Action<string, string>? WorkflowReads { get; set; }

    /// <summary>The hooks given to <paramref name="system"/>'s setup; null when none were.</summary>
    public static StorageHooks? Of(Akka.Actor.ActorSystem system) =>
        system.Settings.Setup.Get<StorageHooks>() is { HasValue: true } hooks ? hooks.Value : null;
}
