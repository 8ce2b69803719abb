package dev.agentplatform.turn;

import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.logging.Logger;

/**
 * What the store already holds of a turn taken up after a restart, whose output the runtime replays from the turn's
 * start: each replayed event equal to the next stored one is left out, until the first that the store does not
 * hold; from there on every event is new. The events the server itself added to the turn (its status changes:
 * running, waiting for a sandbox) are not replayed and are passed over. Not thread-safe: a turn's events arrive one
 * at a time.
 */
final class StoredPrefix {

  private static final Logger LOG = Logger.getLogger(StoredPrefix.class.getName());

  private final Deque<EventPayload> stored;
  private boolean matching = true;

  /** @param stored the turn's stored events after its user message, in order */
  StoredPrefix(List<EventPayload> stored) {
    this.stored = new ArrayDeque<>(stored);
  }

  /** Whether {@code replayed} is already stored (and must not be stored again). */
  boolean alreadyStored(EventPayload replayed) {
    if (!matching) {
      return false;
    }
    while (!stored.isEmpty()) {
      EventPayload next = stored.peekFirst();
      if (next.equals(replayed)) {
        stored.removeFirst();
        return true;
      }
      if (!(next instanceof AgentStatusChanged)) {
        break;
      }
      stored.removeFirst(); // the server's own, not part of the replay
    }
    matching = false;
    if (stored.stream().anyMatch(p -> !(p instanceof AgentStatusChanged))) {
      LOG.warning("the replayed output of a turn taken up after a restart differs from what was stored of it ("
          + replayed.kind() + " where " + stored.peekFirst().kind() + " was stored); from here on it is stored as"
          + " it comes");
    }
    return false;
  }
}
