using System.Globalization;
using System.Text.RegularExpressions;

namespace Durable.Actors.Cli;

internal static partial class Durations
{
    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)$")]
    private static partial Regex Pattern();

    public static TimeSpan? ParseOptional(string? text, string option) => text is null ? null : Parse(text, option);

    public static TimeSpan Parse(string text, string option)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
            throw new UsageException($"{option} '{text}' is not a duration; use a number with ms, s, m or h, e.g. 0s, 30s, 5m");
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromHours(value),
        };
    }
}
