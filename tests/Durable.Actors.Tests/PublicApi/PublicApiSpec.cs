using System.Reflection;
using System.Runtime.CompilerServices;
using Durable.Actors.Cluster;
using Durable.Actors.Dashboard;
using Durable.Actors.Testing;
using PublicApiGenerator;
using Xunit;

namespace Durable.Actors.Tests.PublicApi;

/// <summary>
/// The public API of each shipped package, approved: a change to it shows up here and in review. To approve a change,
/// run the test, read the difference, and copy the received file over the approved one (<c>PublicApi/&lt;package&gt;.approved.txt</c>).
/// </summary>
public sealed class PublicApiSpec
{
    private static readonly Dictionary<string, Assembly> Packages = new()
    {
        ["Durable.Actors"] = typeof(DurableWorkflows).Assembly,
        ["Durable.Actors.Cluster"] = typeof(DurableCluster).Assembly,
        ["Durable.Actors.Dashboard"] = typeof(DurableDashboardOptions).Assembly,
        ["Durable.Actors.Testing"] = typeof(CrashTest).Assembly,
    };

    /// <summary>
    /// The shipped packages that still read the engine's internals, which ties each to the engine's exact build: the
    /// list only shrinks (the dashboard reads public API only; the test assemblies are not shipped).
    /// </summary>
    [Fact]
    public void InternalsOfTheEngine_AreSeenOnlyByTheTestsAndTheCliAndCluster()
    {
        var seenBy = typeof(DurableWorkflows).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName).Order(StringComparer.Ordinal);
        Assert.Equal(
            ["Durable.Actors.Cli", "Durable.Actors.Cluster", "Durable.Actors.Dashboard.Tests", "Durable.Actors.Tests"],
            seenBy);
        Assert.Equal(
            ["Durable.Actors.Dashboard.Tests"],
            typeof(DurableDashboardOptions).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName));
    }

    public static TheoryData<string> PackageNames => [.. Packages.Keys];

    [Theory]
    [MemberData(nameof(PackageNames))]
    public void PublicApi_OfEachPackage_MatchesItsApprovedFile(string package)
    {
        var api = Packages[package].GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"],
        });
        var folder = Path.Combine(AppContext.BaseDirectory, "PublicApi");
        var approvedFile = Path.Combine(folder, $"{package}.approved.txt");
        var approved = File.Exists(approvedFile) ? File.ReadAllText(approvedFile) : "";

        if (Normalize(api) != Normalize(approved))
            File.WriteAllText(Path.Combine(folder, $"{package}.received.txt"), api);
        Assert.Equal(Normalize(approved), Normalize(api));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
