using Xunit;
using Verify = Durable.Actors.Analyzers.Tests.Verify;

namespace Durable.Actors.Analyzers.Tests;

/// <summary>DURABLE0002 to DURABLE0006: waits, I/O, threads, ConfigureAwait(false) and races in workflow code.</summary>
public sealed class EngineRulesSpec
{
    [Fact]
    public Task WaitsOutsideTheEngine_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Waits : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                await {|DURABLE0002:Task.Delay(100)|};
                await {|DURABLE0002:Task.Delay(TimeSpan.FromSeconds(1), context.CancellationToken)|};
                {|DURABLE0002:Thread.Sleep(10)|};
                using var timer = {|DURABLE0002:new Timer(_ => { }, null, 0, 10)|};
                using var timers = {|DURABLE0002:new System.Timers.Timer(10)|};
                using var periodic = {|DURABLE0002:new PeriodicTimer(TimeSpan.FromSeconds(1))|};
                await context.StepAsync("inside", async ct => await Task.Delay(100, ct));
                await context.SleepAsync(TimeSpan.FromSeconds(1));
                return input;
            }
        }
        """);

    [Fact]
    public Task IoOutsideAStep_IsReported() => Verify.AnalyzerAsync("""
        using System.Data.Common;
        using System.IO;
        using System.Net.Http;
        using System.Net.Sockets;

        public sealed class Io(HttpClient http, DbConnection db, Socket socket, Stream stream) : IWorkflow<int, string>
        {
            public async Task<string> RunAsync(IWorkflowContext context, int input)
            {
                var page = await {|DURABLE0003:http.GetStringAsync("http://localhost/")|};
                var text = {|DURABLE0003:File.ReadAllText("a.txt")|};
                var files = {|DURABLE0003:Directory.GetFiles(".")|};
                using var file = {|DURABLE0003:new FileStream("a.txt", FileMode.Open)|};
                using var reader = {|DURABLE0003:new StreamReader("a.txt")|};
                using var wrapped = new StreamReader(stream);
                {|DURABLE0003:db.Open()|};
                using var command = {|DURABLE0003:db.CreateCommand()|};
                var rows = {|DURABLE0003:command.ExecuteNonQuery()|};
                var line = {|DURABLE0003:Console.ReadLine()|};
                Console.WriteLine(line);
                using var tcp = {|DURABLE0003:new TcpClient("localhost", 80)|};
                {|DURABLE0003:socket.Connect("localhost", 80)|};
                var fine = await context.StepAsync("fetch", ct => http.GetStringAsync("http://localhost/", ct));
                return page + text + files.Length + rows + fine;
            }
        }
        """);

    [Fact]
    public Task ThreadsAndSchedulers_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Threads : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                var a = await {|DURABLE0004:Task.Run(() => 1)|};
                var b = await {|DURABLE0004:Task.Factory.StartNew(() => 2)|};
                var thread = {|DURABLE0004:new Thread(() => { })|};
                {|DURABLE0004:ThreadPool.QueueUserWorkItem(_ => { })|};
                {|DURABLE0004:Parallel.For(0, 10, i => { })|};
                var c = await context.StepAsync("inside", ct => Task.Run(() => 3, ct));
                return a + b + c;
            }
        }
        """);

    [Fact]
    public Task ConfigureAwaitFalse_IsReported_TrueIsNot() => Verify.AnalyzerAsync("""
        public sealed class Awaits : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                var a = await context.StepAsync("a", () => 1).{|DURABLE0005:ConfigureAwait(false)|};
                var b = await context.StepAsync("b", () => 2).ConfigureAwait(true);
                await context.SleepAsync(TimeSpan.FromSeconds(1)).{|DURABLE0005:ConfigureAwait(ConfigureAwaitOptions.None)|};
                await context.StepAsync("c", async ct => await Task.Delay(1, ct).ConfigureAwait(false));
                return a + b;
            }
        }
        """);

    [Fact]
    public Task Races_AreReported() => Verify.AnalyzerAsync("""
        public sealed class Races : IWorkflow<int, int>
        {
            public async Task<int> RunAsync(IWorkflowContext context, int input)
            {
                var signal = context.WaitForSignalAsync<int>("go");
                var sleep = context.SleepAsync(TimeSpan.FromHours(1));
                var first = await {|DURABLE0006:Task.WhenAny(signal, sleep)|};
                var index = {|DURABLE0006:Task.WaitAny(signal, sleep)|};
                var inStep = await context.StepAsync("race", async ct => await Task.WhenAny(Task.Delay(1, ct), Task.Delay(2, ct)) is not null);
                return index;
            }
        }
        """);
}
