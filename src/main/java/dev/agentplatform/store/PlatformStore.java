package dev.agentplatform.store;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.ConversationEvent;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where agents and their conversations are kept; the core owns this contract and each adapter (embedded
 * SQLite, Firestore) fulfils it, checked by one contract test suite.
 *
 * <p>Every method throws {@link StoreException} when the store cannot be reached or refuses the call.
 */
public interface PlatformStore extends AutoCloseable {

  /** A short name for logs and readiness: {@code embedded} or {@code firestore}. */
  String name();

  /** Where the data lives, for the log line at start (a path or a project id). */
  String location();

  void createAgent(Agent agent);

  Optional<Agent> findAgent(String agentId);

  /** The owner's agents, oldest first. */
  List<Agent> listAgents(String ownerId);

  /** The agents of every owner stored with this status (at start-up: those a stopped server left running). */
  List<Agent> agentsWithStatus(AgentStatus status);

  /** Writes the user's fields of an agent (name, instructions, model, allowed tools, updatedAt); false if there is none. */
  boolean updateSettings(Agent agent);

  /** Writes the runtime's fields of an agent (status, CLI session id, updatedAt); false if there is none. */
  boolean updateState(String agentId, AgentStatus status, String cliSessionId, Instant at);

  /** Deletes an agent and all of its events; false if there was none. */
  boolean deleteAgent(String agentId);

  /**
   * Writes events durably, all or none, in one call. Their seqs follow the agent's last stored seq; a seq
   * that is already taken fails the whole call.
   */
  void appendEvents(String agentId, List<ConversationEvent> events);

  /** Up to {@code limit} events with a seq greater than {@code afterSeq}, in seq order. */
  List<ConversationEvent> events(String agentId, long afterSeq, int limit);

  /** The highest stored seq of an agent, 0 when it has none. */
  long lastSeq(String agentId);

  /** Throws unless the store answers now (for readiness). */
  void ping();

  @Override
  void close();
}
