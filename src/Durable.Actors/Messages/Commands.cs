namespace Durable.Actors;

/// <summary>Starts the workflow <paramref name="WorkflowId"/>, or resumes it if that id already exists.</summary>
/// <param name="WorkflowId">The workflow's id, unique in the database.</param>
/// <param name="WorkflowType">A type registered in the <see cref="WorkflowRegistry"/>.</param>
/// <param name="InputJson">The input as JSON; <c>null</c> for the input type's default.</param>
/// <remarks>
/// Replies <see cref="WorkflowCompleted"/> or <see cref="WorkflowFailed"/> when the run ends, or
/// <see cref="WorkflowRejected"/> when nothing was started. Starting an existing id never starts a second instance:
/// it resumes the recorded one with its recorded type and input.
/// </remarks>
public sealed record StartWorkflow(string WorkflowId, string WorkflowType, string? InputJson = null) : IWorkflowCommand;

/// <summary>Runs an existing workflow again: completed steps replay, the rest run.</summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <remarks>Replies like <see cref="StartWorkflow"/>, or <see cref="WorkflowNotFound"/> for an unknown id.</remarks>
public sealed record ResumeWorkflow(string WorkflowId) : IWorkflowCommand;

/// <summary>Asks for a workflow's status and step records.</summary>
/// <param name="WorkflowId">The workflow's id.</param>
/// <remarks>Replies <see cref="WorkflowStatus"/>, or <see cref="WorkflowNotFound"/> for an unknown id.</remarks>
public sealed record GetWorkflowStatus(string WorkflowId) : IWorkflowCommand;

/// <summary>A message the coordinator routes to the actor of <see cref="WorkflowId"/>.</summary>
public interface IWorkflowCommand
{
    /// <summary>The workflow the message is for.</summary>
    string WorkflowId { get; }
}
