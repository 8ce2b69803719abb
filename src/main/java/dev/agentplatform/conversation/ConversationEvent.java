package dev.agentplatform.conversation;

import java.time.Instant;

/**
 * One stored event of an agent's conversation, numbered by a per-agent {@code seq} that only grows.
 *
 * @param simulated true when the simulated runtime made it up (no model and no CLI were involved)
 */
public record ConversationEvent(String agentId, long seq, String turnId, Instant timestamp, boolean simulated,
    EventPayload payload) {

  public String kind() {
    return payload.kind();
  }
}
