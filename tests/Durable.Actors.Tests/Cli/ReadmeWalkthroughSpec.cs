using System.Diagnostics;
using System.Text.RegularExpressions;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary>
/// Follows the documentation verbatim: every <c>```sh</c> block of the root README, then of each guide in the order of
/// its documentation map, in one scratch folder, each line run by bash with
/// <c>dotnet run --project src/Durable.Actors.Cli --</c> replaced by the built CLI. A line's exit code must be the one
/// its comment states (<c>(exit N)</c>), else 0, and what its comment promises is checked below. A block that cannot
/// run here (a cluster, a server that runs until stopped, the test suite itself) is preceded by
/// <c>&lt;!-- readme-test: skip: reason --&gt;</c>. A markdown file with a shell block must be in the map.
/// </summary>
public sealed partial class ReadmeWalkthroughSpec
{
    private const string CliPrefix = "dotnet run --project src/Durable.Actors.Cli --";

    /// <summary>What each command's comment promises, checked on its result; the README's commands and these must be the same.</summary>
    private static readonly Dictionary<string, Action<CliResult, string>> Promises = new(StringComparer.Ordinal)
    {
        ["start wf-1"] = (run, _) => Assert.Contains(run.StdoutLines, l => l.StartsWith("workflow wf-1 completed: {", StringComparison.Ordinal)),
        // exp-1 waiting: waiting for signal 'decision' until …
        ["start exp-1 --type approval"] = (run, _) =>
            Assert.Contains(run.StdoutLines, l => l.StartsWith("exp-1 waiting: waiting for signal 'decision' until ", StringComparison.Ordinal)),
        // the wait is a row of its own, exp-1:2, WAITING, between submit-expense (exp-1:1) and what comes after it
        ["history exp-1"] = (run, _) =>
        {
            Assert.Contains(run.StdoutLines, l => Regex.IsMatch(l, @"^exp-1:1\s+submit-expense\s+COMPLETED\s"));
            Assert.Contains(run.StdoutLines, l => Regex.IsMatch(l, @"^exp-1:2\s+signal 'decision'\s+WAITING\s"));
        },
        ["signal exp-1 decision --payload '{\"approved\": true, \"by\": \"grace\"}'"] = (run, _) =>
        {
            Assert.Contains("signal 'decision' delivered to workflow exp-1", run.StdoutLines);
            Assert.Contains(run.StdoutLines, l => l.StartsWith("workflow exp-1 completed: \"paid ", StringComparison.Ordinal));
        },
        ["start exp-2 --type approval"] = (run, _) =>
            Assert.Contains(run.StdoutLines, l => l.StartsWith("exp-2 waiting: waiting for signal 'decision' until ", StringComparison.Ordinal)),
        // its cleanup runs and it ends CANCELLED
        ["cancel exp-2 --reason \"duplicate claim\""] = (run, _) => Assert.Contains("workflow exp-2 cancelled: duplicate claim", run.StdoutLines),
        // killed before the first provision step runs
        ["crash-after wf-2 2"] = (_, folder) =>
        {
            Assert.Equal(["wf-2 create-employee"], TestSupport.Cli.Effects(folder).Where(l => l.StartsWith("wf-2 ", StringComparison.Ordinal)));
        },
        // the provision steps that had begun are IN_PROGRESS (one or both: a loaded machine may kill it before the second began)
        ["history wf-2"] = (run, _) =>
            Assert.InRange(run.StdoutLines.Count(l => Regex.IsMatch(l, @"^wf-2:\S+\s+provision-\S+\s+IN_PROGRESS\s")), 1, 2),
        // the zombie step runs again at once
        ["resume wf-2"] = (run, _) =>
        {
            Assert.Contains(run.StdoutLines, l => Regex.IsMatch(l, @"^wf-2:\S+ provision-\S+ executed$"));
            Assert.Contains(run.StdoutLines, l => l.StartsWith("workflow wf-2 completed: {", StringComparison.Ordinal));
        },
        // each step of wf-2 ran once (the parallel sibling of the crashed step at most twice)
        ["cat effects.log"] = (run, _) =>
        {
            var counts = run.StdoutLines.Where(l => l.StartsWith("wf-2 ", StringComparison.Ordinal)).CountBy(l => l[5..]).ToDictionary();
            Assert.Equal(["create-employee", "provision-access", "provision-laptop", "send-welcome-email"], counts.Keys.Order(StringComparer.Ordinal));
            Assert.All(counts, c => Assert.InRange(c.Value, 1, c.Key.StartsWith("provision-", StringComparison.Ordinal) ? 2 : 1));
        },
    };

    [Fact]
    public async Task ReadmeShellBlocks_RunInOrder_ExitAndPrintAsTheirCommentsSay()
    {
        var guides = Guides();
        var unmapped = Repository.MarkdownFiles().Where(f => !guides.Contains(f) && File.ReadAllText(f).Contains("```sh", StringComparison.Ordinal));
        Assert.True(!unmapped.Any(), $"shell blocks outside the README's documentation map: {string.Join(", ", unmapped)}");
        var blocks = new List<List<(string Line, string Text)>>();
        foreach (var guide in guides)
        {
            var name = Path.GetRelativePath(Repository.Root, guide);
            var (ofGuide, skipped) = ShellBlocks(await File.ReadAllTextAsync(guide));
            Assert.All(skipped, s => Assert.True(s.Reason.Length > 0, $"the skip marker before {name} line {s.Line} gives no reason"));
            blocks.AddRange(ofGuide.Select(b => b.Select(l => ($"{name} line {l.Line}", l.Text)).ToList()));
        }
        using var folder = new TempFolder();
        var ran = new List<string>();

        foreach (var (line, text) in blocks.SelectMany(b => b))
        {
            var (command, comment) = Split(text);
            var key = command.StartsWith(CliPrefix + " ", StringComparison.Ordinal) ? command[(CliPrefix.Length + 1)..] : command;
            Assert.True(Promises.TryGetValue(key, out var promise), $"{line}: `{key}` has no promise checked here; add one to {nameof(Promises)}");
            var expectedExit = ExitComment().Match(comment) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

            var run = await BashAsync(folder.Path, command.Replace(CliPrefix, $"dotnet '{Path.Combine(AppContext.BaseDirectory, "Durable.Actors.Cli.dll")}'", StringComparison.Ordinal));

            Assert.True(run.ExitCode == expectedExit, $"{line}: `{key}` should exit {expectedExit}\n{run}");
            try
            {
                promise(run, folder.Path);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{line}: `{key}` does not do what its comment says ({comment})\n{run}\n{e.Message}");
            }
            ran.Add(key);
        }

        Assert.Equal(Promises.Keys.Order(StringComparer.Ordinal), ran.Order(StringComparer.Ordinal));
    }

    /// <summary>The lines of each runnable <c>```sh</c> block with their README line numbers, and the skipped blocks.</summary>
    private static (List<List<(int Line, string Text)>> Blocks, List<(int Line, string Reason)> Skipped) ShellBlocks(string readme)
    {
        var lines = readme.Split('\n');
        var blocks = new List<List<(int, string)>>();
        var skipped = new List<(int, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```sh")
                continue;
            var block = new List<(int, string)>();
            var j = i + 1;
            for (; j < lines.Length && !lines[j].StartsWith("```", StringComparison.Ordinal); j++)
            {
                if (lines[j].Trim().Length > 0 && !lines[j].TrimStart().StartsWith('#'))
                    block.Add((j + 1, lines[j].TrimEnd()));
            }
            if (i > 0 && SkipMarker().Match(lines[i - 1]) is { Success: true } skip)
                skipped.Add((i + 1, skip.Groups[1].Value.Trim()));
            else
                blocks.Add(block);
            i = j;
        }
        return (blocks, skipped);
    }

    /// <summary>A line split at its comment (a <c>#</c> after blank space; the README's commands quote no <c>#</c>).</summary>
    private static (string Command, string Comment) Split(string line)
    {
        var match = CommentStart().Match(line);
        return match.Success ? (line[..match.Index].Trim(), line[(match.Index + match.Length)..].Trim()) : (line.Trim(), "");
    }

    private static async Task<CliResult> BashAsync(string folder, string command)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The root README, then the markdown files its "Documentation" section links to, in that order.</summary>
    private static List<string> Guides()
    {
        var readme = Path.Combine(Repository.Root, "README.md");
        var text = File.ReadAllText(readme);
        var map = text[text.IndexOf("## Documentation", StringComparison.Ordinal)..];
        return [readme, .. MarkdownLink().Matches(map).Select(m => Path.GetFullPath(Path.Combine(Repository.Root, m.Groups[1].Value))).Distinct()];
    }

    [GeneratedRegex(@"\]\(([^)#\s]+\.md)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"\(exit (\d+)\)")]
    private static partial Regex ExitComment();

    [GeneratedRegex(@"^\s*<!--\s*readme-test:\s*skip:(.*?)-->\s*$")]
    private static partial Regex SkipMarker();

    [GeneratedRegex(@"\s+#\s")]
    private static partial Regex CommentStart();
}
