using Akka.Actor;
using Akka.TestKit.Xunit2;
using Durable.Actors.Runtime;
using Xunit;

namespace Durable.Actors.Tests.Engine;

/// <summary>
/// The engine's asks on a cluster (a client's request, a parent's start of a child, a cancelled parent's cancel of its
/// children): a message lost with a node is sent again until it is answered; on one machine it is sent once.
/// </summary>
public sealed class ResendingSpec : TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Drops the first <c>lost</c> messages (as a node that dies with them would), answers the next.</summary>
    private sealed class LosesFirst : ReceiveActor
    {
        public LosesFirst(int lost, IActorRef seen)
        {
            ReceiveAny(message =>
            {
                seen.Tell(message);
                if (lost-- <= 0)
                    Sender.Tell($"answered {message}");
            });
        }
    }

    [Fact]
    public async Task ALostMessage_IsSentAgainUntilAnswered()
    {
        var target = Sys.ActorOf(Props.Create(() => new LosesFirst(2, TestActor)));

        var reply = await Resending.AskAsync(target, "begin child-1", TimeSpan.FromMilliseconds(200), CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("answered begin child-1", reply);
        for (var i = 0; i < 3; i++)
            Assert.Equal("begin child-1", await ExpectMsgAsync<string>(Timeout));
    }

    [Fact]
    public async Task OnOneMachine_ItIsSentOnce_AndWaitsForItsAnswer()
    {
        var target = Sys.ActorOf(Props.Create(() => new LosesFirst(1, TestActor)));
        using var stop = new CancellationTokenSource();

        var ask = Resending.AskAsync(target, "begin child-1", null, stop.Token);
        Assert.Equal("begin child-1", await ExpectMsgAsync<string>(Timeout));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.False(ask.IsCompleted);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ask.WaitAsync(Timeout));
    }
}
