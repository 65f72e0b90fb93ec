using Akka.Actor;

namespace Durable.Actors.Runtime;

/// <summary>
/// Props whose actor a delegate makes. Akka's <c>Props.Create(() => new T(...))</c> compiles every constructor
/// argument's expression into a dynamic method each time it is called, which the engine did for every workflow and
/// every parallel branch (their collection kept the finalizer thread busy in W3's profile).
/// </summary>
internal static class ActorProps
{
    public static Props Of<T>(Func<T> create) where T : ActorBase => Props.CreateBy(new Producer<T>(create));

    private sealed class Producer<T>(Func<T> create) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);

        // A fresh actor each time: a supervisor's restart asks again.
        public ActorBase Produce() => create();

        public void Release(ActorBase actor) { }
    }
}
