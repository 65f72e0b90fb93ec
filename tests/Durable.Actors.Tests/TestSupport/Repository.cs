namespace Durable.Actors.Tests.TestSupport;

/// <summary>The repository the tests were built from: the folder holding <c>Durable.Actors.sln</c> above the test output.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Durable.Actors.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No Durable.Actors.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>The markdown files of the repository (its documentation), outside build output.</summary>
    public static IReadOnlyList<string> MarkdownFiles() =>
        Directory.EnumerateFiles(Root, "*.md", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(Root, f).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" or ".git" or "node_modules" or "TestResults" or "bench-data"))
            .Order(StringComparer.Ordinal)
            .ToList();
}
