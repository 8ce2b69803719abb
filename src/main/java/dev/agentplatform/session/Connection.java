package dev.agentplatform.session;

import dev.agentplatform.concurrent.SerialQueue;
import dev.agentplatform.conversation.Subscription;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client's WebSocket: its user, its subscriptions, and its outgoing frames, sent by one writer at a time
 * from a bounded queue so a slow client never blocks an agent or another client. A client that falls so far
 * behind that the queue fills is disconnected; it reconnects and resumes from its last seq. Closing never runs
 * on the caller's thread (an agent log's writer, say): a close can block on a peer that stopped reading.
 */
final class Connection {

  private static final Logger LOG = Logger.getLogger(Connection.class.getName());

  /** The queue item that stands for a ping, sent in turn with the frames (no two sends overlap). */
  private static final Object PING = new Object();

  static final CloseReason TOO_SLOW = new CloseReason(CloseReason.CloseCodes.TRY_AGAIN_LATER,
      "too slow: reconnect and resume from your last seq");
  static final CloseReason SILENT = new CloseReason(CloseReason.CloseCodes.GOING_AWAY,
      "no answer to pings: reconnect and resume from your last seq");

  private final Session session;
  private final String userId;
  private final Executor executor;
  private final SerialQueue<Object> outgoing;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean closed;
  private volatile long heardAt = System.nanoTime();
  private volatile long pingedAt = System.nanoTime();

  Connection(Session session, String userId, Executor executor, int queueLimit) {
    this.session = session;
    this.userId = userId;
    this.executor = executor;
    this.outgoing = new SerialQueue<>(executor, queueLimit, this::write);
  }

  String userId() {
    return userId;
  }

  Map<String, Subscription> subscriptions() {
    return subscriptions;
  }

  /** Queues a frame; never blocks. */
  void send(String frame) {
    if (closed) {
      return;
    }
    if (!outgoing.offer(frame)) {
      LOG.info(() -> "closing a WebSocket of user " + userId + ": it fell " + outgoing.size() + " frames behind");
      closeSoon(TOO_SLOW);
    }
  }

  /** Closes once the frames already queued are sent (so the last of them is not lost to the close). */
  void closeAfterQueued(CloseReason reason) {
    if (!closed && outgoing.offer(reason)) {
      return;
    }
    closeSoon(reason);
  }

  /** Anything from the peer (a frame, a pong) shows it is there. */
  void heard() {
    heardAt = System.nanoTime();
  }

  long silentNanos(long now) {
    return now - heardAt;
  }

  /** Queues a ping unless one went out within {@code everyNanos}; a full queue means the peer is not reading. */
  void pingIfDue(long now, long everyNanos) {
    if (!closed && now - pingedAt >= everyNanos) {
      pingedAt = now;
      outgoing.offer(PING);
    }
  }

  /** Stops sending and closes the socket on a worker, so the caller never waits for the peer. */
  void closeSoon(CloseReason reason) {
    closed = true;
    if (closing.compareAndSet(false, true)) {
      executor.execute(() -> closeNow(reason));
    }
  }

  private void closeNow(CloseReason reason) {
    try {
      if (session.isOpen()) {
        session.close(reason);
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "closing a WebSocket failed", e);
    }
  }

  /** Called when the socket has closed: ends the subscriptions. */
  void closed() {
    closed = true;
    closing.set(true);
    subscriptions.values().forEach(Subscription::close);
    subscriptions.clear();
  }

  boolean isClosed() {
    return closed;
  }

  private void write(List<Object> frames) {
    for (Object frame : frames) {
      if (closed || !session.isOpen()) {
        return;
      }
      if (frame instanceof CloseReason reason) {
        closed = true;
        if (closing.compareAndSet(false, true)) {
          closeNow(reason);
        }
        return;
      }
      try {
        if (frame == PING) {
          session.getBasicRemote().sendPing(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
        } else {
          session.getBasicRemote().sendText((String) frame);
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "sending to a WebSocket failed; closing it", e);
        closeSoon(new CloseReason(CloseReason.CloseCodes.GOING_AWAY, "send failed"));
        return;
      }
    }
  }
}
