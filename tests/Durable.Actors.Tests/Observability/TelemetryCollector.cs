using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Durable.Actors.Tests.Observability;

/// <summary>
/// The OpenTelemetry SDK with in-memory exporters on the engine's source and meter, as an application wires it.
/// Listeners are process-wide and tests run in parallel: read only what carries the test's own workflow ids or types.
/// </summary>
public sealed class TelemetryCollector : IDisposable
{
    /// <summary>The source of the callers the tests play (an HTTP request starting a workflow, say).</summary>
    public static readonly ActivitySource Caller = new("Durable.Actors.Tests.Caller");

    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    public TelemetryCollector()
    {
        _tracer = Sdk.CreateTracerProviderBuilder()
            .AddSource(DurableWorkflows.ActivitySourceName, Caller.Name)
            .AddInMemoryExporter(_spans)
            .Build();
        _meter = Sdk.CreateMeterProviderBuilder()
            .AddMeter(DurableWorkflows.MeterName)
            .AddInMemoryExporter(_metrics)
            .Build();
    }

    /// <summary>The exported (ended) spans that carry workflow id <paramref name="workflowId"/>.</summary>
    public IReadOnlyList<Activity> SpansOf(string workflowId)
    {
        lock (_spans)
            return _spans.Where(s => s.GetTagItem("durable.workflow.id") as string == workflowId).ToList();
    }

    /// <summary>The exported spans of trace <paramref name="traceId"/>.</summary>
    public IReadOnlyList<Activity> SpansIn(ActivityTraceId traceId)
    {
        lock (_spans)
            return _spans.Where(s => s.TraceId == traceId).ToList();
    }

    /// <summary>Collects the metrics now and sums the points of <paramref name="name"/> whose tags include <paramref name="tags"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] tags) =>
        Points(name, tags).Sum(p => p.Kind switch
        {
            MetricType.LongSum => p.Point.GetSumLong(),
            MetricType.DoubleSum => p.Point.GetSumDouble(),
            MetricType.LongGauge => p.Point.GetGaugeLastValueLong(),
            MetricType.DoubleGauge => p.Point.GetGaugeLastValueDouble(),
            MetricType.Histogram => p.Point.GetHistogramCount(),
            _ => throw new InvalidOperationException($"{name}: unexpected metric type {p.Kind}"),
        });

    private List<(MetricType Kind, MetricPoint Point)> Points(string name, (string Key, string Value)[] tags)
    {
        lock (_metrics)
        {
            _metrics.Clear();
            _meter.ForceFlush();
            var found = new List<(MetricType, MetricPoint)>();
            foreach (var metric in _metrics.Where(m => m.Name == name))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var pointTags = new Dictionary<string, object?>();
                    foreach (var tag in point.Tags)
                        pointTags[tag.Key] = tag.Value;
                    if (tags.All(t => pointTags.TryGetValue(t.Key, out var v) && v as string == t.Value))
                        found.Add((metric.MetricType, point));
                }
            }
            return found;
        }
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }
}
