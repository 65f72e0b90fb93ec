namespace Durable.Actors.Samples.Onboarding;

/// <summary>Who to onboard.</summary>
/// <param name="Name">The new employee's full name.</param>
/// <param name="Email">Where the welcome email goes.</param>
public sealed record NewHire(string Name, string Email)
{
    /// <summary>The input used when none is given.</summary>
    public static NewHire Default { get; } = new("Ada Lovelace", "ada@example.com");
}

/// <summary>The employee record the first step creates.</summary>
/// <param name="EmployeeId">The new id.</param>
/// <param name="Name">The employee's name.</param>
/// <param name="Email">The employee's email.</param>
public sealed record Employee(string EmployeeId, string Name, string Email);

/// <summary>What onboarding produced.</summary>
/// <param name="EmployeeId">The employee's id.</param>
/// <param name="LaptopAssetTag">The laptop provisioned.</param>
/// <param name="Accounts">The accounts granted.</param>
/// <param name="WelcomeEmailId">The welcome email's message id.</param>
public sealed record OnboardingResult(string EmployeeId, string LaptopAssetTag, IReadOnlyList<string> Accounts, string WelcomeEmailId);

/// <summary>
/// The onboarding sample: create the employee record, provision a laptop and access, send the welcome email.
/// Copy it as a template: every side effect sits in a step, everything outside steps is deterministic.
/// </summary>
/// <param name="effects">Where each real execution of a step leaves its line.</param>
public sealed class OnboardingWorkflow(EffectsLog effects) : IWorkflow<NewHire, OnboardingResult>
{
    /// <summary>The name the sample is registered under.</summary>
    public const string TypeName = "onboarding";

    /// <summary>How long each simulated provisioning call takes.</summary>
    public static TimeSpan ProvisioningLatency { get; } = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc />
    public async Task<OnboardingResult> RunAsync(IWorkflowContext context, NewHire input)
    {
        var id = context.WorkflowId;

        var employee = await context.StepAsync("create-employee", async ct =>
        {
            await effects.AppendAsync(id, "create-employee", ct);
            return new Employee($"EMP-{Stable(id):X8}", input.Name, input.Email);
        });

        // Two independent provisioning calls run in parallel branches; each takes a moment, as a real API call would.
        var (laptop, accounts) = await context.ParallelAsync(
            branch => branch.StepAsync("provision-laptop", async ct =>
            {
                await effects.AppendAsync(id, "provision-laptop", ct);
                await Task.Delay(ProvisioningLatency, ct);
                return $"LAPTOP-{employee.EmployeeId[4..]}";
            }),
            branch => branch.StepAsync("provision-access", async ct =>
            {
                await effects.AppendAsync(id, "provision-access", ct);
                await Task.Delay(ProvisioningLatency, ct);
                return (IReadOnlyList<string>)["email", "chat", "source-control"];
            }));

        var emailId = await context.StepAsync("send-welcome-email", async ct =>
        {
            await effects.AppendAsync(id, "send-welcome-email", ct);
            return $"welcome-{employee.EmployeeId}@example.com";
        });

        return new OnboardingResult(employee.EmployeeId, laptop, accounts, emailId);
    }

    // string.GetHashCode differs per process; the ids must be the same in every run.
    private static uint Stable(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
            hash = (hash ^ c) * 16777619u;
        return hash;
    }
}
