package dev.agentplatform.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A peer that stopped reading never holds up whoever sends to it: the agent log's writer only queues, and the
 * close that follows a full queue runs on a worker (a close can block on such a peer too).
 */
class ConnectionTest {

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final CountDownLatch release = new CountDownLatch(1);
  private final CountDownLatch closeCalled = new CountDownLatch(1);
  private final AtomicReference<Thread> closer = new AtomicReference<>();
  private final AtomicReference<CloseReason> reason = new AtomicReference<>();
  private final List<String> sent = new CopyOnWriteArrayList<>();
  private final List<String> pings = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    release.countDown();
    pool.shutdownNow();
  }

  /** A session whose sends and close block until {@link #release}, like a peer that stopped reading. */
  private Session stuckPeer() {
    RemoteEndpoint.Basic basic = (RemoteEndpoint.Basic) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {RemoteEndpoint.Basic.class}, (p, m, args) -> {
          if (m.getName().equals("sendText")) {
            sent.add((String) args[0]);
            release.await();
          } else if (m.getName().equals("sendPing")) {
            pings.add(m.getName());
          }
          return null;
        });
    return (Session) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Session.class},
        (p, m, args) -> switch (m.getName()) {
          case "getBasicRemote" -> basic;
          case "isOpen" -> true;
          case "close" -> {
            closer.set(Thread.currentThread());
            reason.set(args == null ? null : (CloseReason) args[0]);
            closeCalled.countDown();
            release.await();
            yield null;
          }
          default -> null;
        });
  }

  @Test
  void aFullQueueClosesOnAWorkerNotOnTheSendersThread() throws Exception {
    Connection c = new Connection(stuckPeer(), "u", pool, 5);
    Thread sender = Thread.currentThread();
    c.send("frame 0");
    // The writer takes the first frame and hangs in it, as on a peer that stopped reading; then the queue fills.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (sent.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (int i = 1; i < 50; i++) {
        c.send("frame " + i);
      }
    }, "sending to a stuck peer returned");
    assertTrue(closeCalled.await(30, TimeUnit.SECONDS), "the connection was closed");
    assertNotSame(sender, closer.get(), "the close ran on a worker");
    assertEquals(CloseReason.CloseCodes.TRY_AGAIN_LATER, reason.get().getCloseCode());
    assertEquals(List.of("frame 0"), sent, "only the frame in flight reached the peer");
  }

  @Test
  void aPingGoesThroughTheQueueAndSilenceIsMeasuredFromTheLastFrameHeard() throws Exception {
    release.countDown();
    Connection c = new Connection(stuckPeer(), "u", pool, 5);
    long now = System.nanoTime();
    c.pingIfDue(now + TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(5));
    c.pingIfDue(now + TimeUnit.SECONDS.toNanos(11), TimeUnit.SECONDS.toNanos(5));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pings.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertEquals(1, pings.size(), "one ping per interval");
    assertTrue(c.silentNanos(now + TimeUnit.SECONDS.toNanos(10)) >= TimeUnit.SECONDS.toNanos(9));
    c.heard();
    assertTrue(c.silentNanos(System.nanoTime()) < TimeUnit.SECONDS.toNanos(9));
  }

  private static EventFrames.Frame event(String agentId, int seq) {
    String json = "{\"agentId\":\"" + agentId + "\",\"seq\":" + seq + "}";
    return new EventFrames.Frame(agentId, json, ProtocolCodec.event(json));
  }

  /** Queues events behind one the writer hangs in, then lets the writer go and waits for {@code count} sends. */
  private List<String> sentAfterABacklog(boolean batched, int count, Object... backlog) {
    Connection c = new Connection(stuckPeer(), "u", pool, 1000);
    c.batch(batched);
    c.send(event("a", 0));
    awaitSent(1);
    for (Object frame : backlog) {
      if (frame instanceof EventFrames.Frame f) {
        c.send(f);
      } else {
        c.send((String) frame);
      }
    }
    release.countDown();
    awaitSent(count);
    return List.copyOf(sent);
  }

  private void awaitSent(int count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (sent.size() < count && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }

  private static String events(String agentId, int from, int to) {
    List<String> jsons = new java.util.ArrayList<>();
    for (int i = from; i <= to; i++) {
      jsons.add(event(agentId, i).json());
    }
    return ProtocolCodec.events(agentId, jsons);
  }

  @Test
  void aBatchedConnectionGetsTheQueuedEventsOfAnAgentAsOneMessageInOrder() {
    Object[] backlog = {event("a", 1), event("a", 2), event("a", 3), "{\"type\":\"reply\",\"id\":\"1\"}",
        event("a", 4), event("a", 5), event("b", 1), event("a", 6)};
    assertEquals(List.of(event("a", 0).text(), events("a", 1, 3), "{\"type\":\"reply\",\"id\":\"1\"}",
        events("a", 4, 5), event("b", 1).text(), event("a", 6).text()), sentAfterABacklog(true, 6, backlog),
        "runs of one agent's events batched, a reply and another agent's event between them kept in place");
  }

  @Test
  void aConnectionThatDidNotAskGetsEveryEventAsItsOwnFrame() {
    Object[] backlog = {event("a", 1), event("a", 2), event("a", 3)};
    assertEquals(List.of(event("a", 0).text(), event("a", 1).text(), event("a", 2).text(), event("a", 3).text()),
        sentAfterABacklog(false, 4, backlog));
  }

  @Test
  void aBatchHoldsAtMostItsCount() {
    Object[] backlog = new Object[Connection.BATCH_EVENTS + 10];
    for (int i = 0; i < backlog.length; i++) {
      backlog[i] = event("a", i + 1);
    }
    assertEquals(List.of(event("a", 0).text(), events("a", 1, Connection.BATCH_EVENTS),
        events("a", Connection.BATCH_EVENTS + 1, Connection.BATCH_EVENTS + 10)), sentAfterABacklog(true, 3, backlog));
  }

  @Test
  void aBatchHoldsAtMostItsCharacters() {
    String half = "x".repeat(Connection.BATCH_CHARS / 2);
    EventFrames.Frame b1 = new EventFrames.Frame("a", "{\"t\":\"" + half + "1\"}", "f1");
    EventFrames.Frame b2 = new EventFrames.Frame("a", "{\"t\":\"" + half + "2\"}", "f2");
    EventFrames.Frame b3 = new EventFrames.Frame("a", "{\"t\":\"" + half + "3\"}", "f3");
    assertEquals(List.of(event("a", 0).text(), "f1", "f2",
        ProtocolCodec.events("a", List.of(b3.json(), event("a", 4).json(), event("a", 5).json()))),
        sentAfterABacklog(true, 4, b1, b2, b3, event("a", 4), event("a", 5)),
        "two events over the cap go one by one; one with small ones after it goes with them");
  }
}
