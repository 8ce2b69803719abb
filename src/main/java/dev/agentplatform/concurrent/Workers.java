package dev.agentplatform.concurrent;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The platform's own threads: a pool for short tasks (draining queues, replaying history), a pool that writes to
 * WebSockets, and a scheduler for timeouts and idle checks. None of them touch container-managed resources.
 */
@ApplicationScoped
public class Workers {

  private final ExecutorService pool = Executors.newCachedThreadPool(named("agent-platform-worker"));
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, named("agent-platform-timer"));
  private final StallTolerantPool senders = new StallTolerantPool(
      Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), Duration.ofMillis(200), Duration.ofSeconds(30),
      named("agent-platform-sender"), scheduler);

  public ExecutorService pool() {
    return pool;
  }

  /** Writes to WebSockets: quick unless a peer stops reading, which costs that peer's thread only. */
  public Executor senders() {
    return senders;
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  @PreDestroy
  void shutdown() {
    senders.shutdownNow();
    scheduler.shutdownNow();
    pool.shutdownNow();
  }

  /** A factory of daemon threads named {@code prefix-N}. */
  public static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
