using Durable.Actors.Testing;
using PublicApiGenerator;
using Xunit;

namespace Durable.Actors.Tests.Testing;

/// <summary>
/// The test kit's public API, approved like the library's: to approve a change, run the test, read the difference,
/// and copy the received file over the approved one.
/// </summary>
public sealed class TestKitPublicApiSpec
{
    [Fact]
    public void PublicApi_OfTheTestKit_MatchesTheApprovedFile()
    {
        var api = typeof(CrashTest).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"],
        });
        var folder = Path.Combine(AppContext.BaseDirectory, "PublicApi");
        var approvedFile = Path.Combine(folder, "Durable.Actors.Testing.approved.txt");
        var approved = File.Exists(approvedFile) ? File.ReadAllText(approvedFile) : "";

        if (Normalize(api) != Normalize(approved))
            File.WriteAllText(Path.Combine(folder, "Durable.Actors.Testing.received.txt"), api);
        Assert.Equal(Normalize(approved), Normalize(api));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
