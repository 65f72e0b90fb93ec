using PublicApiGenerator;
using Xunit;

namespace Durable.Actors.Tests.PublicApi;

/// <summary>
/// The library's public API, approved: a change to it shows up here and in review. To approve a change, run the
/// test, read the difference, and copy the received file over the approved one.
/// </summary>
public sealed class PublicApiSpec
{
    [Fact]
    public void PublicApi_OfTheLibrary_MatchesTheApprovedFile()
    {
        var api = typeof(DurableWorkflows).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"],
        });
        var folder = Path.Combine(AppContext.BaseDirectory, "PublicApi");
        var approved = File.ReadAllText(Path.Combine(folder, "Durable.Actors.approved.txt"));

        if (Normalize(api) != Normalize(approved))
            File.WriteAllText(Path.Combine(folder, "Durable.Actors.received.txt"), api);
        Assert.Equal(Normalize(approved), Normalize(api));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
