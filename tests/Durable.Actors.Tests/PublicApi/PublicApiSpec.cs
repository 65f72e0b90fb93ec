using System.Reflection;
using Durable.Actors.Cluster;
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
        ["Durable.Actors.Testing"] = typeof(CrashTest).Assembly,
    };

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
