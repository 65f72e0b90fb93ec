using Microsoft.Extensions.Logging;

namespace Durable.Actors.Tests.TestSupport;

/// <summary>One log entry with its structured values and the values of its scopes.</summary>
public sealed record LogEntry(
    string Category,
    LogLevel Level,
    string? EventName,
    string Message,
    IReadOnlyDictionary<string, object?> Values,
    IReadOnlyDictionary<string, object?> Scopes);

/// <summary>Keeps every entry with its structured values and the values of its scopes.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly List<LogEntry> _entries = [];
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
                return _entries.ToList();
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(CollectingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                foreach (var (key, value) in pairs)
                    values[key] = value;
            var scopes = new Dictionary<string, object?>();
            provider._scopes.ForEachScope((scope, into) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                    foreach (var (key, value) in scopePairs)
                        into[key] = value;
            }, scopes);
            lock (provider._entries)
                provider._entries.Add(new LogEntry(category, logLevel, eventId.Name, formatter(state, exception), values, scopes));
        }
    }
}
