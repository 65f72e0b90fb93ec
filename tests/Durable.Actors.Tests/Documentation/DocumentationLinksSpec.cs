using System.Text.RegularExpressions;
using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Documentation;

/// <summary>
/// The documentation cannot rot silently: every relative link of every markdown file (outside code blocks) names a
/// file that exists, and a <c>#fragment</c> names a heading of the file it points to (GitHub's anchors).
/// </summary>
public sealed partial class DocumentationLinksSpec
{
    [Fact]
    public void EveryRelativeLink_ResolvesToAFile_AndEveryAnchorToAHeading()
    {
        var files = Repository.MarkdownFiles();
        Assert.Contains(Path.Combine(Repository.Root, "README.md"), files);
        var broken = new List<string>();
        foreach (var file in files)
        {
            var name = Path.GetRelativePath(Repository.Root, file);
            foreach (var (line, link) in Links(File.ReadAllLines(file)))
            {
                if (Scheme().IsMatch(link))
                    continue;
                var hash = link.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? link : link[..hash];
                var target = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(path)));
                if (!File.Exists(target) && !Directory.Exists(target))
                    broken.Add($"{name}:{line}: {link} (no such file)");
                else if (hash >= 0 && target.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllLines(target)).Contains(link[(hash + 1)..]))
                    broken.Add($"{name}:{line}: {link} (no such heading)");
            }
        }
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    /// <summary>The link targets of markdown text, with their line numbers, outside fenced code blocks.</summary>
    private static IEnumerable<(int Line, string Link)> Links(string[] lines)
    {
        var fenced = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            else if (!fenced)
            {
                foreach (Match match in Link().Matches(lines[i]))
                    yield return (i + 1, match.Groups[1].Value);
            }
        }
    }

    /// <summary>GitHub's anchor of each heading: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> Anchors(string[] lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var fenced = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            else if (!fenced && Heading().Match(line) is { Success: true } heading)
                anchors.Add(NotInAnchor().Replace(heading.Groups[1].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-'));
        }
        return anchors;
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    [GeneratedRegex(@"^#{1,6} (.+)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\w\- ]")]
    private static partial Regex NotInAnchor();
}
