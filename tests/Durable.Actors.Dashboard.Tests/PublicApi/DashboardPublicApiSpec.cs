using PublicApiGenerator;
using Xunit;

namespace Durable.Actors.Dashboard.Tests.PublicApi;

/// <summary>
/// The dashboard's public API, approved like the library's: to approve a change, run the test, read the difference,
/// and copy the received file over the approved one.
/// </summary>
public sealed class DashboardPublicApiSpec
{
    [Fact]
    public void PublicApi_OfTheDashboard_MatchesTheApprovedFile()
    {
        var api = typeof(DashboardEndpointRouteBuilderExtensions).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"],
        });
        var folder = Path.Combine(AppContext.BaseDirectory, "PublicApi");
        var approved = File.ReadAllText(Path.Combine(folder, "Durable.Actors.Dashboard.approved.txt"));

        if (Normalize(api) != Normalize(approved))
            File.WriteAllText(Path.Combine(folder, "Durable.Actors.Dashboard.received.txt"), api);
        Assert.Equal(Normalize(approved), Normalize(api));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
