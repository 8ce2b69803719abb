package dev.agentplatform.session;

import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventJson;

/**
 * The serialised form of a stored event, its JSON and its {@code event} frame, built once however many connections
 * it is sent to; a batch of events splices the same JSON strings (see {@link ProtocolCodec#events}).
 *
 * <p>An agent's log hands each stored event to its subscribers one after another on the thread that stored it, so
 * the frame last built on a thread is, during a fan-out, the one the next subscriber needs: a one-entry cache per
 * thread, compared by identity, serves 99 of 100 subscribers without a lock. A replay, which sends each connection
 * other events, misses it and builds its frames as before.
 */
final class EventFrames {

  private static final ThreadLocal<Entry> LAST = new ThreadLocal<>();

  private EventFrames() {
  }

  static Frame frame(ConversationEvent event) {
    Entry last = LAST.get();
    if (last != null && last.event == event) {
      return last.frame;
    }
    String json = EventJson.toJson(event).toString();
    Frame frame = new Frame(event.agentId(), json, ProtocolCodec.event(json));
    LAST.set(new Entry(event, frame));
    return frame;
  }

  /** An event's agent, its JSON, and its {@code event} frame (that JSON inside). */
  record Frame(String agentId, String json, String text) {
  }

  /** The event last framed on a thread, and its frame. */
  private record Entry(ConversationEvent event, Frame frame) {
  }
}
