namespace Durable.Actors.Tests.Golden;

/// <summary>
/// Where the golden files live, and the switch that rewrites them. The checks read the copies in the test output and
/// never write; with <c>DURABLE_ACTORS_REGENERATE_GOLDEN=1</c> the regenerating tests write the sources under
/// <c>tests/Durable.Actors.Tests/Golden/</c> (rebuild afterwards, then run the checks).
/// </summary>
internal static class GoldenFiles
{
    public static bool Regenerate => Environment.GetEnvironmentVariable("DURABLE_ACTORS_REGENERATE_GOLDEN") == "1";

    /// <summary>The golden files copied to the test output: what the checks read.</summary>
    public static string Output(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    /// <summary>The golden files in the source tree: what regeneration writes.</summary>
    public static string Source(string name) => Path.Combine(TestSupport.Repository.Root, "tests", "Durable.Actors.Tests", "Golden", name);
}
