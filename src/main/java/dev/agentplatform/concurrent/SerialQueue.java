package dev.agentplatform.concurrent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A queue whose items are handed, in order and in batches, to one consumer at a time on a shared executor:
 * producers never block and never wait for the consumer.
 *
 * <p>Used where exactly one writer is allowed (an agent's event log, a WebSocket session) without giving
 * each of them a thread of its own.
 */
public final class SerialQueue<T> {

  private static final Logger LOG = Logger.getLogger(SerialQueue.class.getName());

  private final Executor executor;
  private final Consumer<List<T>> consumer;
  private final int limit;
  private final ArrayDeque<T> items = new ArrayDeque<>();
  private boolean draining;

  /**
   * @param limit the most items that may wait; 0 for no limit
   */
  public SerialQueue(Executor executor, int limit, Consumer<List<T>> consumer) {
    this.executor = executor;
    this.limit = limit;
    this.consumer = consumer;
  }

  /** Adds an item; false (and nothing added) when the queue already holds {@code limit} items. */
  public boolean offer(T item) {
    synchronized (this) {
      if (limit > 0 && items.size() >= limit) {
        return false;
      }
      items.add(item);
      if (draining) {
        return true;
      }
      draining = true;
    }
    executor.execute(this::drain);
    return true;
  }

  public synchronized int size() {
    return items.size();
  }

  private void drain() {
    while (true) {
      List<T> batch;
      synchronized (this) {
        if (items.isEmpty()) {
          draining = false;
          return;
        }
        batch = new ArrayList<>(items);
        items.clear();
      }
      try {
        consumer.accept(batch);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "a queue consumer failed; its batch is dropped", e);
      }
    }
  }
}
