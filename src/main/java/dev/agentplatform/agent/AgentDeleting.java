package dev.agentplatform.agent;

/** A CDI event fired just before an agent's records are deleted, so its turn and workspace go too. */
public record AgentDeleting(String ownerId, String agentId) {
}
