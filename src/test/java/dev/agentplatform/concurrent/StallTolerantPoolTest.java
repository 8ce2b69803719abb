package dev.agentplatform.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Busy, the pool runs on its core threads alone; a thread held by a task that blocks is replaced, so the tasks behind
 * it still run; the extra threads end once idle.
 */
class StallTolerantPoolTest {

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final CountDownLatch release = new CountDownLatch(1);
  private StallTolerantPool pool;

  @AfterEach
  void stop() {
    release.countDown();
    if (pool != null) {
      pool.shutdownNow();
    }
    scheduler.shutdownNow();
  }

  @Test
  void manyQuickTasksRunOnTheCoreThreadsOnly() throws Exception {
    pool = new StallTolerantPool(3, Duration.ofSeconds(30), Duration.ofSeconds(30), Workers.named("t"), scheduler);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    int n = 20_000;
    CountDownLatch done = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      pool.execute(() -> {
        threads.add(Thread.currentThread().getName());
        done.countDown();
      });
    }
    assertTrue(done.await(60, TimeUnit.SECONDS), "every task ran");
    assertTrue(threads.size() <= 3, "no thread beyond the core ones: " + threads);
    assertEquals(3, pool.size());
  }

  @Test
  void threadsHeldByBlockedTasksAreReplacedAndTheExtraOnesEndWhenIdle() throws Exception {
    pool = new StallTolerantPool(2, Duration.ofMillis(50), Duration.ofMillis(200), Workers.named("t"), scheduler);
    CountDownLatch bothBlocked = new CountDownLatch(2);
    for (int i = 0; i < 2; i++) {
      pool.execute(() -> {
        bothBlocked.countDown();
        await(release);
      });
    }
    assertTrue(bothBlocked.await(30, TimeUnit.SECONDS), "both core threads took a blocking task");
    // Every core thread is now held, as by two peers that stopped reading: quick tasks must still run.
    CountDownLatch quick = new CountDownLatch(100);
    for (int i = 0; i < 100; i++) {
      pool.execute(quick::countDown);
    }
    assertTrue(quick.await(30, TimeUnit.SECONDS), "tasks behind the blocked ones ran on threads started for them");
    assertTrue(pool.size() >= 3, "threads were added: " + pool.size());

    release.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pool.size() > 2 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(2, pool.size(), "the extra threads ended once idle, the core ones stay");
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
