using Durable.Actors.Tests.TestSupport;
using Xunit;

namespace Durable.Actors.Tests.Cli;

/// <summary><c>start</c> of an id that exists resumes it with its recorded type and input, and says so when asked for others.</summary>
public sealed class StartExistingSpec
{
    [Theory]
    [InlineData("with type 'onboarding' and input {\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"}; it resumes with those, not with the --type 'report' given",
        "--type", "report")]
    [InlineData("with type 'onboarding' and input {\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"}; it resumes with those, not with the --input given",
        "--input", "{\"name\": \"Grace Hopper\", \"email\": \"grace@example.com\"}")]
    [InlineData("with type 'onboarding' and input {\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"}; it resumes with those, not with the --type and --input given",
        "--type", "report", "--input", "{\"sections\": 3}")]
    public async Task Start_ExistingIdWithAnotherTypeOrInput_WarnsOnStderrAndResumesTheRecordedOne(string expected, params string[] options)
    {
        using var folder = new TempFolder();
        var first = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");
        Assert.True(first.ExitCode == 0, first.ToString());

        var again = await TestSupport.Cli.RunAsync(folder.Path, ["start", "wf-1", .. options]);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"warning: workflow 'wf-1' already exists {expected}", Assert.Single(again.StderrLines));
        // The recorded workflow completed: its result is final, and nothing runs again.
        Assert.Equal([first.StdoutLines[^1]], again.StdoutLines);
        Assert.Equal(4, TestSupport.Cli.Effects(folder.Path).Length);
    }

    [Fact]
    public async Task Start_ExistingIdWithTheSameTypeAndInput_SaysNothingMore()
    {
        using var folder = new TempFolder();
        await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1");

        var again = await TestSupport.Cli.RunAsync(folder.Path, "start", "wf-1", "--type", "onboarding", "--input", "{ \"email\": \"ada@example.com\", \"name\": \"Ada Lovelace\" }");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Empty(again.Stderr);
    }

    [Fact]
    public async Task StartHelp_ListsTheRegisteredWorkflowTypes()
    {
        using var folder = new TempFolder();

        var help = await TestSupport.Cli.RunAsync(folder.Path, "start", "--help");

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains(help.StdoutLines, l => l.StartsWith("--type", StringComparison.Ordinal) && l.Contains("onboarding, report", StringComparison.Ordinal));
    }
}
