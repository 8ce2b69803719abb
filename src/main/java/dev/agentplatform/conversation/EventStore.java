package dev.agentplatform.conversation;

import java.util.List;

/**
 * Where conversation events are kept: the port the conversation feature owns, fulfilled by each store adapter
 * (embedded SQLite, Firestore) and checked by one contract test suite.
 *
 * <p>Every method throws {@link dev.agentplatform.error.StoreException} when the store cannot be reached or
 * refuses the call.
 */
public interface EventStore {

  /** The most events one {@link #appendEvents} call may carry (Firestore commits at most 500 writes). */
  int MAX_EVENTS_PER_CALL = 400;

  /**
   * Writes at most {@link #MAX_EVENTS_PER_CALL} events durably, all or none, in one call. Their seqs follow the
   * agent's last stored seq; a seq that is already taken fails the whole call.
   */
  void appendEvents(String agentId, List<ConversationEvent> events);

  /**
   * {@link #appendEvents} in one commit with a check that {@code fence} is still the agent's lease; a store that
   * keeps leases throws {@link FencedException} when it is not, and writes nothing. A store of one server (which
   * keeps no leases) ignores the fence.
   */
  default void appendEvents(String agentId, List<ConversationEvent> events, Fence fence) {
    appendEvents(agentId, events);
  }

  /** Up to {@code limit} events with a seq greater than {@code afterSeq}, in seq order. */
  List<ConversationEvent> events(String agentId, long afterSeq, int limit);

  /** The highest stored seq of an agent, 0 when it has none. */
  long lastSeq(String agentId);

  /** Refuses a call of more than {@link #MAX_EVENTS_PER_CALL} events: no adapter could commit it at once. */
  static void checkBatch(List<ConversationEvent> events) {
    if (events.size() > MAX_EVENTS_PER_CALL) {
      throw new IllegalArgumentException(events.size() + " events in one call; at most " + MAX_EVENTS_PER_CALL);
    }
  }

  /** Deletes every event of an agent, however many (in as many commits as the store needs). */
  void deleteEvents(String agentId);
}
