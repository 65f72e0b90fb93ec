using System.IO.Compression;
using System.Xml.Linq;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Packaging.Tests;

/// <summary>
/// The path a user takes, from packages only: pack the solution, then in a folder outside the repository add
/// Durable.Actors to a new console project and run the README's workflow, install the <c>durable</c> tool, and create a
/// worker from the template and run its tests.
/// </summary>
public sealed class PackagingSpec(PackagedFeed feed) : IClassFixture<PackagedFeed>
{
    private static readonly string[] Packed =
        ["Durable.Actors", "Durable.Actors.Cli", "Durable.Actors.Cluster", "Durable.Actors.Dashboard", "Durable.Actors.Templates", "Durable.Actors.Testing"];

    [Fact]
    public void Pack_MakesEachPackageWithItsReadmeLicenceAndSymbols_AndNoSampleOrTest()
    {
        var packages = Directory.GetFiles(feed.Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Packed.Select(id => $"{id}.{feed.Version}.nupkg"), packages);

        foreach (var id in Packed)
        {
            using var package = ZipFile.OpenRead(Path.Combine(feed.Feed, $"{id}.{feed.Version}.nupkg"));
            var nuspec = Nuspec(package);
            Assert.Equal(id, Metadata(nuspec, "id"));
            Assert.Equal(feed.Version, Metadata(nuspec, "version"));
            Assert.Equal("MIT", Metadata(nuspec, "license"));
            Assert.Equal("README.md", Metadata(nuspec, "readme"));
            Assert.False(string.IsNullOrWhiteSpace(Metadata(nuspec, "description")), $"{id} has no description");
            Assert.Contains(package.Entries, e => e.FullName == "README.md");
            if (id != "Durable.Actors.Templates")
                Assert.True(File.Exists(Path.Combine(feed.Feed, $"{id}.{feed.Version}.snupkg")), $"{id} has no symbol package");
        }

        // The package that reads the engine's internals depends on the engine of its own build exactly; the dashboard and
        // the test kit, on its public API only, on this version or later.
        foreach (var (id, range) in new[] { ("Durable.Actors.Cluster", $"[{feed.Version}]"), ("Durable.Actors.Testing", feed.Version), ("Durable.Actors.Dashboard", feed.Version) })
        {
            using var package = ZipFile.OpenRead(Path.Combine(feed.Feed, $"{id}.{feed.Version}.nupkg"));
            var engineDependency = Nuspec(package).Descendants().Single(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == "Durable.Actors");
            Assert.Equal(range, (string?)engineDependency.Attribute("version"));
        }

        using (var engine = ZipFile.OpenRead(Path.Combine(feed.Feed, $"Durable.Actors.{feed.Version}.nupkg")))
        {
            Assert.Contains(engine.Entries, e => e.FullName == "lib/net10.0/Durable.Actors.dll");
            Assert.Contains(engine.Entries, e => e.FullName == "analyzers/dotnet/cs/Durable.Actors.Analyzers.dll");
        }
        using (var tool = ZipFile.OpenRead(Path.Combine(feed.Feed, $"Durable.Actors.Cli.{feed.Version}.nupkg")))
        {
            Assert.Contains(tool.Entries, e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
            Assert.Contains("DotnetTool", Nuspec(tool).Descendants().Where(e => e.Name.LocalName == "packageType").Select(e => (string?)e.Attribute("name")));
        }
        using (var templates = ZipFile.OpenRead(Path.Combine(feed.Feed, $"Durable.Actors.Templates.{feed.Version}.nupkg")))
        {
            Assert.Contains(templates.Entries, e => e.FullName == "content/durable-worker/.template.config/template.json");
            using var reader = new StreamReader(templates.GetEntry("content/durable-worker/.template.config/template.json")!.Open());
            Assert.Contains($"\"value\": \"{feed.Version}\"", reader.ReadToEnd(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReadmeWorkflow_InANewConsoleProject_CompletesThenReplaysAfterAKill_AndTheAnalyzerFlagsTheClock()
    {
        var app = feed.NewProjectFolder("readme-app");
        (await Dotnet.RunAsync(app, feed.Environment, ["new", "console", "--framework", "net10.0"])).AssertExit(0, "dotnet new console");
        (await Dotnet.RunAsync(app, feed.Environment, ["add", "package", "Durable.Actors", "--version", feed.Version])).AssertExit(0, "dotnet add package");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ReadmeWorkflow());
        // Beside it, a workflow that reads the clock: the package brings the determinism analyzer, which flags it.
        await File.WriteAllTextAsync(Path.Combine(app, "Clock.cs"), """
            using Durable.Actors;

            public sealed class ClockWorkflow : IWorkflow<string, string>
            {
                public async Task<string> RunAsync(IWorkflowContext ctx, string input)
                {
                    await ctx.StepAsync("noop", () => 0);
                    return $"{input} at {DateTime.UtcNow:O}";
                }
            }
            """);
        var build = await Dotnet.RunAsync(app, feed.Environment, ["build"]);
        build.AssertExit(0, "dotnet build of the README's workflow");
        var warnings = build.StdoutLines.Where(l => l.Contains(": warning ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(warnings);
        Assert.All(warnings, w => Assert.True(w.Contains("Clock.cs", StringComparison.Ordinal) && w.Contains("warning DURABLE0001", StringComparison.Ordinal), w));
        var dll = Path.Combine(app, "bin", "Debug", "net10.0", "readme-app.dll");

        // Killed during the wait, once create-account's record is durable (as the durable tool reads it; a step's
        // completion is written with the workflow's next write, here the timer's), as Ctrl+C would kill it.
        var crashed = await Dotnet.RunUntilThenKillAsync("dotnet", app, feed.Environment, [dll], async line =>
            line.StartsWith("acct-Ada created", StringComparison.Ordinal) && await AwaitCompletedAsync(app, "signup.db", "signup-ada", "create-account"));
        Assert.Equal(137, crashed.ExitCode);
        Assert.Single(crashed.StdoutLines, "creating account");

        // Run again: the workflow resumes, create-account replays from its record, and the rest runs.
        var resumed = await Dotnet.RunAsync(app, feed.Environment, [dll]);
        resumed.AssertExit(0, "the README's workflow, run again");
        Assert.DoesNotContain("creating account", resumed.StdoutLines);
        Assert.Contains("acct-Ada created; waiting 10 s (Ctrl+C now, then run again)", resumed.StdoutLines);
        Assert.Contains("welcome mail to Ada", resumed.StdoutLines);
        Assert.Contains("acct-Ada welcomed", resumed.StdoutLines);

        // And once more: it completed, so nothing runs and the recorded result is printed.
        var again = await Dotnet.RunAsync(app, feed.Environment, [dll]);
        again.AssertExit(0, "the README's workflow, a third time");
        Assert.DoesNotContain("creating account", again.StdoutLines);
        Assert.DoesNotContain("welcome mail to Ada", again.StdoutLines);
        Assert.Contains("acct-Ada welcomed", again.StdoutLines);
    }

    [Fact]
    public async Task Tool_InstalledFromTheFeed_PrintsItsVersion_StartsListsAndShowsStatus()
    {
        var work = feed.NewProjectFolder("tool-user");
        var durable = feed.DurableTool;   // dotnet tool install Durable.Actors.Cli --tool-path <folder>, from the feed

        var version = await Dotnet.RunProgramAsync(durable, work, feed.Environment, ["--version"]);
        version.AssertExit(0, "durable --version");
        Assert.Equal(feed.Version, version.Stdout.Trim());

        var start = await Dotnet.RunProgramAsync(durable, work, feed.Environment, ["start", "wf-1", "--db", "shop.db"]);
        start.AssertExit(0, "durable start");
        Assert.Contains(start.StdoutLines, l => l.StartsWith("workflow wf-1 completed: {", StringComparison.Ordinal));

        var list = await Dotnet.RunProgramAsync(durable, work, feed.Environment, ["list", "--db", "shop.db"]);
        list.AssertExit(0, "durable list");
        Assert.Contains(list.StdoutLines, l => l.StartsWith("wf-1 ", StringComparison.Ordinal) && l.Contains("COMPLETED", StringComparison.Ordinal));

        var status = await Dotnet.RunProgramAsync(durable, work, feed.Environment, ["status", "wf-1", "--db", "shop.db", "--json"]);
        status.AssertExit(0, "durable status");
        Assert.Contains("\"status\": \"COMPLETED\"", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_CreatesAWorkerWhoseBuildIsCleanAndWhoseTestsPass()
    {
        var work = feed.NewProjectFolder("template-user");
        var hive = Path.Combine(work, "template-hive");
        string[] inHive = ["--debug:custom-hive", hive];
        (await Dotnet.RunAsync(work, feed.Environment, ["new", "install", Path.Combine(feed.Feed, $"Durable.Actors.Templates.{feed.Version}.nupkg"), .. inHive]))
            .AssertExit(0, "dotnet new install");
        (await Dotnet.RunAsync(work, feed.Environment, ["new", "durable-worker", "-n", "Shop", .. inHive])).AssertExit(0, "dotnet new durable-worker");

        var solution = Path.Combine(work, "Shop");
        Assert.True(File.Exists(Path.Combine(solution, "Shop", "Shop.csproj")), "the worker project is named after -n");
        Assert.Contains($"Version=\"{feed.Version}\"", await File.ReadAllTextAsync(Path.Combine(solution, "Shop", "Shop.csproj")), StringComparison.Ordinal);

        // Warnings as errors: the template's code raises no diagnostic, the determinism analyzer's included.
        (await Dotnet.RunAsync(solution, feed.Environment, ["build", "Shop.sln", "-warnaserror"])).AssertExit(0, "dotnet build of the template's solution");
        var test = await Dotnet.RunAsync(solution, feed.Environment, ["test", "Shop.sln", "--no-build"]);
        test.AssertExit(0, "dotnet test of the template's solution");
        Assert.Contains(test.StdoutLines, l => l.Contains("Passed!", StringComparison.Ordinal) && l.Contains("Passed:     2", StringComparison.Ordinal));
    }

    /// <summary>Waits (up to a minute) until the durable tool's history of the workflow shows the step COMPLETED.</summary>
    private async Task<bool> AwaitCompletedAsync(string folder, string database, string workflowId, string stepId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!timeout.IsCancellationRequested)
        {
            var history = await Dotnet.RunProgramAsync(feed.DurableTool, folder, feed.Environment, ["history", workflowId, "--db", database]);
            if (history.StdoutLines.Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var id, "COMPLETED", ..] && id == stepId))
                return true;
            await Task.Delay(100, CancellationToken.None);
        }
        return false;
    }

    /// <summary>The first C# block under the README's "A workflow in about 20 lines": a whole Program.cs.</summary>
    private static string ReadmeWorkflow()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var section = readme[readme.IndexOf("## A workflow in about 20 lines", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        return section[start..section.IndexOf("\n```", start, StringComparison.Ordinal)];
    }

    private static XDocument Nuspec(ZipArchive package)
    {
        using var stream = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }

    private static string? Metadata(XDocument nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name && e.Parent?.Name.LocalName == "metadata")?.Value;
}
