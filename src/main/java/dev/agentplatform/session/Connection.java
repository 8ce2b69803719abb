package dev.agentplatform.session;

import dev.agentplatform.concurrent.SerialQueue;
import dev.agentplatform.conversation.Subscription;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 *
 * <p>A connection that asked for batches ({@code options} with {@code "batch":true}) gets the events of one agent
 * that are queued one after another when its writer runs as one {@code events} message (at most {@link #BATCH_EVENTS}
 * events and {@link #BATCH_CHARS} characters of them), so a burst costs it one write instead of one per event; a
 * single event still goes as an {@code event} frame. The queue's limit counts events, batched or not.
 */
final class Connection {

  private static final Logger LOG = Logger.getLogger(Connection.class.getName());

  /** The queue item that stands for a ping, sent in turn with the frames (no two sends overlap). */
  private static final Object PING = new Object();

  static final CloseReason TOO_SLOW = new CloseReason(CloseReason.CloseCodes.TRY_AGAIN_LATER,
      "too slow: reconnect and resume from your last seq");
  static final CloseReason SILENT = new CloseReason(CloseReason.CloseCodes.GOING_AWAY,
      "no answer to pings: reconnect and resume from your last seq");

  /** The most events one {@code events} message carries. */
  static final int BATCH_EVENTS = 100;
  /** The most characters of events' JSON one {@code events} message carries (an event larger alone goes alone). */
  static final int BATCH_CHARS = 64 * 1024;

  private final Session session;
  private final String userId;
  private final Executor executor;
  private final SerialQueue<Object> outgoing;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean closed;
  private volatile boolean batched;
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
    enqueue(frame);
  }

  private void enqueue(Object frame) {
    if (closed) {
      return;
    }
    if (!outgoing.offer(frame)) {
      LOG.info(() -> "closing a WebSocket of user " + userId + ": it fell " + outgoing.size() + " frames behind");
      closeSoon(TOO_SLOW);
    }
  }

  /** Queues an event's frame; never blocks. */
  void send(EventFrames.Frame frame) {
    enqueue(frame);
  }

  /** Whether queued events of one agent may go out together in an {@code events} message from now on. */
  void batch(boolean on) {
    batched = on;
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
    for (int i = 0; i < frames.size(); i++) {
      Object frame = frames.get(i);
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
        } else if (frame instanceof EventFrames.Frame event) {
          int end = batched ? batchEnd(frames, i) : i + 1;
          session.getBasicRemote().sendText(end - i == 1 ? event.text() : batch(frames, i, end));
          i = end - 1;
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

  /** Where the batch that starts at {@code start} ends: the run of the same agent's events, within the caps. */
  private static int batchEnd(List<Object> frames, int start) {
    String agentId = ((EventFrames.Frame) frames.get(start)).agentId();
    int chars = ((EventFrames.Frame) frames.get(start)).json().length();
    int end = start + 1;
    while (end < frames.size() && end - start < BATCH_EVENTS && frames.get(end) instanceof EventFrames.Frame next
        && next.agentId().equals(agentId)) {
      chars += next.json().length() + 1;
      if (chars > BATCH_CHARS) {
        break;
      }
      end++;
    }
    return end;
  }

  private static String batch(List<Object> frames, int from, int to) {
    List<String> events = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      events.add(((EventFrames.Frame) frames.get(i)).json());
    }
    return ProtocolCodec.events(((EventFrames.Frame) frames.get(from)).agentId(), events);
  }
}
