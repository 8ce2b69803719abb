package dev.agentplatform.concurrent;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pool for tasks that are quick unless they block on a peer (writes to WebSockets): a few threads take tasks from
 * one queue, so a busy pool hands a task to no thread of its own, and a thread held by one task longer than the
 * stall time stops counting, so another is started in its place and a peer that stopped reading never holds up the
 * rest. Threads beyond the core number end after an idle while.
 *
 * <p>A cached pool (a thread woken per task) cost about 40% of the server's CPU when one event went out to 100
 * WebSockets (docs/benchmarks.md); a fixed pool would let a few stuck peers stop every write.
 */
public final class StallTolerantPool implements Executor {

  private static final Logger LOG = Logger.getLogger(StallTolerantPool.class.getName());

  private final int core;
  private final long stallNanos;
  private final long keepAliveNanos;
  private final ThreadFactory threads;
  private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
  private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
  private final AtomicInteger idle = new AtomicInteger();
  private final ScheduledFuture<?> check;
  private volatile boolean shutdown;

  /**
   * @param core how many threads that are not stalled the pool keeps while it has work
   * @param stall how long one task may hold a thread before another thread is started in its place
   * @param keepAlive how long a thread beyond the core number waits for work before it ends
   * @param scheduler runs the check for stalled threads, every {@code stall}
   */
  public StallTolerantPool(int core, java.time.Duration stall, java.time.Duration keepAlive, ThreadFactory threads,
      ScheduledExecutorService scheduler) {
    if (core < 1) {
      throw new IllegalArgumentException("core must be at least 1: " + core);
    }
    this.core = core;
    this.stallNanos = stall.toNanos();
    this.keepAliveNanos = keepAlive.toNanos();
    this.threads = threads;
    this.check = scheduler.scheduleWithFixedDelay(this::startWhatIsMissing, stallNanos, stallNanos,
        TimeUnit.NANOSECONDS);
  }

  @Override
  public void execute(Runnable task) {
    if (shutdown) {
      throw new RejectedExecutionException("the pool is shut down");
    }
    queue.add(task);
    if (idle.get() == 0) {
      startWhatIsMissing();
    }
  }

  /** How many threads the pool has now (stalled ones included). */
  public int size() {
    return workers.size();
  }

  /** Stops taking tasks and interrupts the threads; queued tasks are dropped. */
  public void shutdownNow() {
    shutdown = true;
    check.cancel(false);
    queue.clear();
    workers.forEach(w -> w.thread.interrupt());
  }

  /** Starts threads while work waits and fewer than {@code core} threads are free of a stalled task. */
  private synchronized void startWhatIsMissing() {
    if (shutdown || queue.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    int unstalled = 0;
    for (Worker w : workers) {
      if (!w.stalled(now)) {
        unstalled++;
      }
    }
    for (; unstalled < core; unstalled++) {
      Worker w = new Worker();
      workers.add(w);
      w.thread.start();
    }
  }

  /** Whether a thread with nothing to do may end: only while more than {@code core} remain. */
  private synchronized boolean retire(Worker w) {
    if (shutdown || workers.size() > core) {
      workers.remove(w);
      return true;
    }
    return false;
  }

  /** One thread of the pool and when its current task started (0 while it has none). */
  private final class Worker implements Runnable {
    final Thread thread = threads.newThread(this);
    volatile long taskStartedAt;

    boolean stalled(long now) {
      long started = taskStartedAt;
      return started != 0 && now - started > stallNanos;
    }

    @Override
    public void run() {
      try {
        while (!shutdown) {
          Runnable task;
          idle.incrementAndGet();
          try {
            task = queue.poll(keepAliveNanos, TimeUnit.NANOSECONDS);
          } finally {
            idle.decrementAndGet();
          }
          if (task == null) {
            if (retire(this)) {
              return;
            }
            continue;
          }
          taskStartedAt = Math.max(1, System.nanoTime());
          try {
            task.run();
          } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a task failed", e);
          } finally {
            taskStartedAt = 0;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        workers.remove(this);
      }
    }
  }
}
