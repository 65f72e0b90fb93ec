using Akka.Hosting;
using Durable.Actors;
using DurableWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton<IShop, LoggingShop>();
builder.Services.AddAkka("durable-worker", (akka, _) => akka.WithDurableWorkflows(options =>
{
    // One SQLite file holds every workflow's journal; a restart resumes the unfinished ones from it.
    options.DatabasePath = builder.Configuration["Workflows:DatabasePath"] ?? "workflows.db";
    // A new OrderWorkflow per run, its constructor's services from this host's container.
    options.AddWorkflow<OrderWorkflow, Order, string>("order");
}));
builder.Services.AddHostedService<OrderSubmitter>();

await builder.Build().RunAsync();
