package dev.agentplatform.conversation;

import java.util.ArrayList;
import java.util.List;

/**
 * One reader of an agent's events: stored events after a seq first, then live ones, with no gap and no
 * duplicate. Live events that arrive during the replay wait in a buffer and are delivered after it, skipping
 * any seq the replay already delivered.
 */
public final class Subscription implements AutoCloseable {

  private final String agentId;
  private final EventSink sink;
  private final Runnable onClose;
  private long delivered;
  private List<ConversationEvent> pending = new ArrayList<>();
  private boolean closed;

  Subscription(String agentId, long afterSeq, EventSink sink, Runnable onClose) {
    this.agentId = agentId;
    this.delivered = afterSeq;
    this.sink = sink;
    this.onClose = onClose;
  }

  public String agentId() {
    return agentId;
  }

  /** The seq of the last event handed to the sink. */
  public synchronized long deliveredSeq() {
    return delivered;
  }

  synchronized void replayed(ConversationEvent event) {
    deliver(event);
  }

  synchronized void live(ConversationEvent event) {
    if (pending != null) {
      pending.add(event);
    } else {
      deliver(event);
    }
  }

  synchronized void replayDone() {
    if (pending != null) {
      List<ConversationEvent> waiting = pending;
      pending = null;
      waiting.forEach(this::deliver);
    }
  }

  private void deliver(ConversationEvent event) {
    if (!closed && event.seq() > delivered) {
      delivered = event.seq();
      sink.accept(event);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    onClose.run();
  }
}
