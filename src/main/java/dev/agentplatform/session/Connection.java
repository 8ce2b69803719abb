package dev.agentplatform.session;

import dev.agentplatform.concurrent.SerialQueue;
import dev.agentplatform.conversation.Subscription;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client's WebSocket: its user, its subscriptions, and its outgoing frames, sent by one writer at a time
 * from a bounded queue so a slow client never blocks an agent or another client. A client that falls so far
 * behind that the queue fills is disconnected; it reconnects and resumes from its last seq.
 */
final class Connection {

  private static final Logger LOG = Logger.getLogger(Connection.class.getName());

  private final Session session;
  private final String userId;
  private final SerialQueue<Object> outgoing;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private volatile boolean closed;

  Connection(Session session, String userId, Executor executor, int queueLimit) {
    this.session = session;
    this.userId = userId;
    this.outgoing = new SerialQueue<>(executor, queueLimit, this::write);
  }

  String userId() {
    return userId;
  }

  Map<String, Subscription> subscriptions() {
    return subscriptions;
  }

  void send(String frame) {
    if (closed) {
      return;
    }
    if (!outgoing.offer(frame)) {
      LOG.info(() -> "closing a WebSocket of user " + userId + ": it fell " + outgoing.size() + " frames behind");
      close(new CloseReason(CloseReason.CloseCodes.TRY_AGAIN_LATER, "too slow: reconnect and resume from your last seq"));
    }
  }

  /** Sends a last frame, then closes: both go through the queue, so the frame is not lost to the close. */
  void sendThenClose(String frame, CloseReason reason) {
    if (!closed && outgoing.offer(frame) && outgoing.offer(reason)) {
      return;
    }
    close(reason);
  }

  void close(CloseReason reason) {
    closed = true;
    try {
      if (session.isOpen()) {
        session.close(reason);
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "closing a WebSocket failed", e);
    }
  }

  /** Called when the socket has closed: ends the subscriptions. */
  void closed() {
    closed = true;
    subscriptions.values().forEach(Subscription::close);
    subscriptions.clear();
  }

  private void write(List<Object> frames) {
    for (Object frame : frames) {
      if (closed || !session.isOpen()) {
        return;
      }
      if (frame instanceof CloseReason reason) {
        close(reason);
        return;
      }
      try {
        session.getBasicRemote().sendText((String) frame);
      } catch (IOException | IllegalStateException e) {
        LOG.log(Level.FINE, "sending to a WebSocket failed; closing it", e);
        closed = true;
        return;
      }
    }
  }
}
