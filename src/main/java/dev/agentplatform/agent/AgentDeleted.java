package dev.agentplatform.agent;

/**
 * A CDI event fired when deleting an agent ended: {@code deleted} tells whether its record is gone, or the delete
 * failed and the agent stays (so what was held back for the delete is let go either way).
 */
public record AgentDeleted(String ownerId, String agentId, boolean deleted) {
}
