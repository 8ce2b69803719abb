package dev.agentplatform.agent;

import java.time.Instant;
import java.util.List;

/**
 * A stored agent: who owns it, how it is set up, and the CLI session that carries its conversation.
 *
 * @param cliSessionId the Claude Code session to resume, or null before the first turn
 */
public record Agent(
    String id,
    String ownerId,
    String name,
    String instructions,
    String model,
    List<String> allowedTools,
    AgentStatus status,
    String cliSessionId,
    Instant createdAt,
    Instant updatedAt) {

  public Agent {
    allowedTools = List.copyOf(allowedTools);
  }

  /** The part of an agent that decides how its CLI is started. */
  public AgentSettings settings() {
    return new AgentSettings(instructions, model, allowedTools);
  }

  public Agent withStatus(AgentStatus newStatus, Instant at) {
    return new Agent(id, ownerId, name, instructions, model, allowedTools, newStatus, cliSessionId, createdAt, at);
  }

  public Agent withCliSessionId(String sessionId, Instant at) {
    return new Agent(id, ownerId, name, instructions, model, allowedTools, status, sessionId, createdAt, at);
  }

  public Agent withChanges(AgentChanges changes, Instant at) {
    return new Agent(id, ownerId,
        changes.name() != null ? changes.name() : name,
        changes.instructions() != null ? changes.instructions() : instructions,
        changes.model() != null ? changes.model() : model,
        changes.allowedTools() != null ? changes.allowedTools() : allowedTools,
        status, cliSessionId, createdAt, at);
  }
}
