package dev.agentplatform.runtime;

import dev.agentplatform.agent.AgentSettings;

/**
 * One turn for a runtime to run.
 *
 * @param resumeSessionId the CLI session to continue, or null for the agent's first turn
 */
public record TurnRequest(String agentId, String turnId, String text, AgentSettings settings, String resumeSessionId) {
}
