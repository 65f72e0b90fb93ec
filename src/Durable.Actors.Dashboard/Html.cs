using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Durable.Actors.Dashboard;

/// <summary>
/// Writes HTML: markup only through <see cref="Raw"/> with literal text of ours, and every value through <see cref="Text(string?)"/>
/// or <see cref="Attr"/>, which encode it.
/// </summary>
internal sealed class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private readonly StringBuilder _builder = new(8192);

    public Html Raw(string markup)
    {
        _builder.Append(markup);
        return this;
    }

    public Html Text(string? value)
    {
        if (value is not null)
            Encoder.Encode(new StringWriter(_builder, CultureInfo.InvariantCulture), value);
        return this;
    }

    public Html Text(long value) => Raw(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes <c> name="value"</c>, the value encoded.</summary>
    public Html Attr(string name, string? value)
    {
        _builder.Append(' ').Append(name).Append("=\"");
        Text(value);
        _builder.Append('"');
        return this;
    }

    /// <summary>Writes an element holding encoded text: <c>&lt;tag class="…"&gt;text&lt;/tag&gt;</c>.</summary>
    public Html Element(string tag, string? text, string? cssClass = null)
    {
        _builder.Append('<').Append(tag);
        if (cssClass is not null)
            Attr("class", cssClass);
        _builder.Append('>');
        Text(text);
        _builder.Append("</").Append(tag).Append('>');
        return this;
    }

    public override string ToString() => _builder.ToString();

    public static string Url(string value) => UrlEncoder.Default.Encode(value);

    public static string Percent(double value) => value.ToString("0.###", CultureInfo.InvariantCulture) + "%";
}
