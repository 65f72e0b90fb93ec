using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Durable.Actors.Cluster;
using Durable.Actors.Cli.Targets;
using Durable.Actors.Configuration;
using Npgsql;

namespace Durable.Actors.Cli.Hosting;

/// <summary>
/// The CLI on a cluster. A reader is a plain local ActorSystem on the sql storage profile: it reads the journal in
/// PostgreSQL and joins nothing. A member joins the cluster as a proxy-only member (a role other than the workflows
/// role: it hosts no bucket, and the split-brain resolver, restricted to that role, does not count it), sends through
/// the shard region with the typed client's resends, and leaves the cluster gracefully when disposed, so that the
/// nodes see it leave rather than fail.
/// </summary>
internal sealed class ClusterCliHost : IAsyncDisposable
{
    private readonly ClusterConnection _target;
    private bool _joined;

    private ClusterCliHost(ActorSystem system, ClusterConnection target)
    {
        System = system;
        _target = target;
    }

    public ActorSystem System { get; }

    /// <summary>A local system reading the cluster's journal; PostgreSQL unreachable fails it with one line naming host and port.</summary>
    public static async Task<ClusterCliHost> OpenReaderAsync(ClusterConnection target)
    {
        var system = ActorSystem.Create(ClusterNode.SystemName, DurableCluster.CreateSetup(Config(target, "akka.actor.provider = local")));
        try
        {
            DurableCluster.EnsureReachable(PersistencePlugins.Bind(system));
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
        return new ClusterCliHost(system, target);
    }

    /// <summary>
    /// A cluster member that has not joined yet (<see cref="JoinAsync"/> joins): the shard-region proxy and the client
    /// are started, and PostgreSQL was found reachable, so that bad input is refused before the cluster sees this process.
    /// </summary>
    public static async Task<ClusterCliHost> OpenMemberAsync(ClusterConnection target, WorkflowRegistry registry)
    {
        // As on a node: heartbeats run on the thread pool, which grows too slowly while the start warms up on a loaded
        // machine; late heartbeats would make the nodes find this member unreachable.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
        var hocon = $$"""
            akka {
              remote.dot-netty.tcp {
                hostname = {{DurableWorkflowsOptions.Quote(target.Hostname)}}
                port = {{target.Port.ToString(CultureInfo.InvariantCulture)}}
              }
              # Joined explicitly, once the command's input was checked.
              cluster.seed-nodes = []
              # Not the workflows role (durable-actors.cluster.role): no bucket here, and not counted by the resolver.
              cluster.roles = ["cli"]
              # A seed that does not answer is reported in one line (JoinAsync), not by Akka's association warnings.
              remote.log-remote-lifecycle-events = off
              loglevel = ERROR
            }
            """;
        EnsureCanListen(target.Hostname, target.Port);
        var system = ActorSystem.Create(ClusterNode.SystemName, DurableCluster.CreateSetup(Config(target, hocon)));
        try
        {
            var role = system.Settings.Config.GetString("durable-actors.cluster.role", "workflows");
            if (Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(role))
                throw new InvalidOperationException($"The CLI must not have the role '{role}' that hosts workflows.");
            DurableCluster.Start(system, registry);
        }
        catch
        {
            await system.Terminate().ConfigureAwait(false);
            throw;
        }
        return new ClusterCliHost(system, target);
    }

    /// <summary>
    /// A port in use or an address not of this machine, said in one line before Akka's transport fails to bind (it
    /// would throw nested exceptions).
    /// </summary>
    private static void EnsureCanListen(string hostname, int port)
    {
        var where = $"{hostname}:{port.ToString(CultureInfo.InvariantCulture)}";
        try
        {
            var address = IPAddress.TryParse(hostname, out var ip) ? ip : Dns.GetHostAddresses(hostname)[0];
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException e)
        {
            throw new UsageException($"cannot listen on {where} (--hostname, --port): {e.Message}");
        }
        catch (IndexOutOfRangeException)
        {
            throw new UsageException($"cannot listen on {where} (--hostname, --port): the name has no address");
        }
    }

    /// <summary>Joins through the seed nodes and waits until this member is up, at most <c>--join-timeout</c>.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        var cluster = Akka.Cluster.Cluster.Get(System);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.JoinSeedNodes(_target.Seeds.Select(Address.Parse));
        try
        {
            await up.Task.WaitAsync(_target.JoinTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new UsageException(
                $"no node of the cluster answered at {string.Join(", ", _target.Seeds)} within {_target.JoinTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s " +
                "(is serve --cluster running there? --join-timeout waits longer)");
        }
        _joined = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_joined)
        {
            StderrLogger.Silenced = true;
            // Leave, wait until the cluster has this member exiting, then stop: the nodes see a member leave, not fail.
            await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance)
                .WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>
    /// <paramref name="hocon"/> over the CLI's logging and the connection string, over the nodes' settings: a member takes
    /// part in the split-brain resolver (it may be the leader that decides), so it needs the nodes' timings.
    /// </summary>
    private static Config Config(ClusterConnection target, string hocon) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = WARNING
        {{CliHost.AkkaLogging}}
        durable-actors.sql.connection-string = {{DurableWorkflowsOptions.Quote(target.ConnectionString)}}
        {{hocon}}
        """).WithFallback(target.Settings);
}
