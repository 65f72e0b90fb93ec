namespace Durable.Actors;

/// <summary>Type names as C# writes them (<c>System.Collections.Generic.List&lt;Shop.Order&gt;</c>), for records and errors.</summary>
internal static class TypeNames
{
    /// <summary>The name of <typeparamref name="T"/>, built once per type: a step's completion records it on the hot path.</summary>
    public static string For<T>() => Cached<T>.Name;

    private static class Cached<T>
    {
        public static readonly string Name = Of(typeof(T));
    }

    public static string Of(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return Of(underlying) + "?";
        if (type.IsArray)
            return Of(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        var name = type.IsNested ? Of(type.DeclaringType!) + "." + type.Name : (type.Namespace is { } ns ? ns + "." : "") + type.Name;
        if (!type.IsGenericType)
            return name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(Of)) + ">";
    }
}
