package dev.agentplatform.concurrent;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The platform's own threads: a pool for short tasks (draining queues, replaying history) and a scheduler
 * for timeouts and idle checks. None of them touch container-managed resources.
 */
@ApplicationScoped
public class Workers {

  private final ExecutorService pool = Executors.newCachedThreadPool(named("agent-platform-worker"));
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, named("agent-platform-timer"));

  public ExecutorService pool() {
    return pool;
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  @PreDestroy
  void shutdown() {
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
