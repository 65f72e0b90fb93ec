using System.Text.RegularExpressions;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Packaging.Tests;

/// <summary>
/// The packages as a user gets them: <c>dotnet pack Durable.Actors.sln -o feed</c>, once for the tests of this
/// assembly, and a folder outside the repository whose <c>nuget.config</c> takes Durable.Actors packages from that
/// feed only and everything else from the registry. Restores there use a packages folder of their own (so a package
/// of an earlier pack is never taken from a cache) that falls back on the machine's, where the registry's packages
/// already are.
/// </summary>
public sealed partial class PackagedFeed : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();

    /// <summary>The version Directory.Build.props gives every package.</summary>
    public string Version { get; } = ReadVersion();

    public string Feed => _folder.File("feed");

    /// <summary>Where user projects are made: nuget.config is here.</summary>
    public string Work => _folder.File("work");

    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>The <c>durable</c> tool, installed from the feed into a tool path of its own.</summary>
    public string DurableTool => Path.Combine(_folder.File("tools"), "durable");

    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Work);
        // The packages of the build this test runs in (Debug, which the project references below make sure of): the
        // same pack as the README's -c Release, without compiling the solution a second time in CI.
        var pack = await Dotnet.RunAsync(Repository.Root, new Dictionary<string, string>(),
            ["pack", "Durable.Actors.sln", "-c", "Debug", "--no-build", "-o", Feed]);
        pack.AssertExit(0, "dotnet pack Durable.Actors.sln");

        var globalPackages = await GlobalPackagesFolderAsync();
        var packages = _folder.File("packages");
        _environment["NUGET_PACKAGES"] = packages;
        await File.WriteAllTextAsync(Path.Combine(Work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local-feed" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local-feed"><package pattern="Durable.Actors" /><package pattern="Durable.Actors.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{globalPackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);

        (await Dotnet.RunAsync(Work, Environment, ["tool", "install", "Durable.Actors.Cli", "--version", Version, "--tool-path", _folder.File("tools")]))
            .AssertExit(0, "dotnet tool install");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _folder.Dispose();

    /// <summary>A new empty folder under <see cref="Work"/>, so that its nuget.config applies.</summary>
    public string NewProjectFolder(string name)
    {
        var path = Path.Combine(Work, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static async Task<string> GlobalPackagesFolderAsync()
    {
        var locals = await Dotnet.RunAsync(Repository.Root, new Dictionary<string, string>(), ["nuget", "locals", "global-packages", "--list"]);
        locals.AssertExit(0, "dotnet nuget locals");
        // "global-packages: /root/.nuget/packages/"
        var line = locals.Stdout.Split('\n').Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal));
        return line["global-packages:".Length..].Trim();
    }

    private static string ReadVersion()
    {
        var props = File.ReadAllText(Path.Combine(Repository.Root, "Directory.Build.props"));
        return VersionElement().Match(props) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no <Version> in Directory.Build.props");
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
