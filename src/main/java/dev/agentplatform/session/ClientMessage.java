package dev.agentplatform.session;

import dev.agentplatform.agent.AgentChanges;
import dev.agentplatform.agent.AgentDraft;

/** A request frame from a client; each carries the client-chosen {@code id} that its reply echoes. */
public sealed interface ClientMessage {

  String id();

  record CreateAgent(String id, AgentDraft agent) implements ClientMessage {
  }

  record ListAgents(String id) implements ClientMessage {
  }

  record GetAgent(String id, String agentId) implements ClientMessage {
  }

  record UpdateAgent(String id, String agentId, AgentChanges changes) implements ClientMessage {
  }

  record DeleteAgent(String id, String agentId) implements ClientMessage {
  }

  record Send(String id, String agentId, String text) implements ClientMessage {
  }

  record Interrupt(String id, String agentId) implements ClientMessage {
  }

  record Subscribe(String id, String agentId, long afterSeq) implements ClientMessage {
  }

  record Unsubscribe(String id, String agentId) implements ClientMessage {
  }

  record Ping(String id) implements ClientMessage {
  }
}
