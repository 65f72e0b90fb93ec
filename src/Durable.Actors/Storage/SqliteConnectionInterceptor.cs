using System.Data.Common;
using System.Runtime.CompilerServices;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace Durable.Actors.Storage;

/// <summary>
/// Runs the per-connection PRAGMAs (busy_timeout and synchronous are per connection) on every connection
/// Akka.Persistence.Sql opens: once per native SQLite connection, which the pool hands out again and again.
/// </summary>
internal sealed class SqliteConnectionInterceptor(string synchronous, TimeSpan busyTimeout) : ConnectionInterceptor
{
    private readonly string _pragmas = SqliteDatabase.ConnectionPragmas(synchronous, busyTimeout);

    public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) => Apply(connection);

    public override Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private readonly ConditionalWeakTable<object, object> _applied = [];

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } && !_applied.TryAdd(handle, this))
            return;
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }
}
