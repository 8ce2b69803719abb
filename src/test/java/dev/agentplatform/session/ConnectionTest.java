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
}
