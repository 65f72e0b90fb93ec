using Xunit;

namespace Durable.Actors.Tests.Cluster;

/// <summary>
/// The cluster tests run alone, after the others: their nodes' heartbeats need CPU in time, and on a loaded 2-core
/// machine other test classes running beside them can starve a node long enough for its peers to down it. A test of
/// one node has no peer: it belongs in <c>Durable.Actors.Tests.Postgres</c>, which runs beside the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTests
{
    public const string Name = "cluster";
}
