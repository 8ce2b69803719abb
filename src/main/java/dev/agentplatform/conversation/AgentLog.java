package dev.agentplatform.conversation;

import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.error.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One agent's event log: a single writer numbers queued events, stores each batch in one call (group
 * commit), and only then hands them to subscribers.
 *
 * <p>Consecutive text deltas of the same message that queue up while a write is in flight are merged into one
 * event, so a slow store gets fewer, larger writes while a fast one streams delta by delta; no text is lost
 * either way. A batch goes to the store in calls of at most {@link EventStore#MAX_EVENTS_PER_CALL} events and
 * {@link #MAX_BYTES_PER_CALL} bytes (Firestore commits at most 500 writes and 10 MiB).
 *
 * <p>A sealed log (its agent is being deleted) refuses appends; what was queued before is still written, and
 * {@link #awaitDrained} waits for it, so deleting the events afterwards leaves none behind.
 */
final class AgentLog {

  private static final Logger LOG = Logger.getLogger(AgentLog.class.getName());
  /** The most bytes of event data in one store call. */
  static final int MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
  /** Text deltas are not merged past this size, so a merged event stays well inside a Firestore document. */
  static final int MAX_MERGED_TEXT_BYTES = StoredText.MAX_TEXT_BYTES;

  private final String agentId;
  private final EventStore store;
  private final Predicate<String> agentExists;
  private final Executor executor;
  /** The fence of this server's writes of the agent (its lease), or null to write without one. */
  private final java.util.function.Supplier<Fence> fence;
  private final Set<Subscription> subscriptions = new CopyOnWriteArraySet<>();
  /** Guarded by this: events waiting for the writer, whether the writer runs, whether the log is sealed. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean writing;
  private boolean sealed;
  private long lastUsedNanos = System.nanoTime();
  /** Whether the agent was found to exist; checked before the first write, only by the writer. */
  private boolean agentChecked;
  /** When a write last failed (System.nanoTime), while what queued behind it is still to be failed; 0 otherwise. */
  private long failedAt;
  /** The last durable seq; -1 until read from the store (and after a failed write, to re-read it). */
  private volatile long lastSeq = -1;

  AgentLog(String agentId, EventStore store, Predicate<String> agentExists, Executor executor,
      java.util.function.Supplier<Fence> fence) {
    this.agentId = agentId;
    this.fence = fence;
    this.store = store;
    this.agentExists = agentExists;
    this.executor = executor;
  }

  /**
   * Queues an event; false (nothing queued) when the log is sealed. Called under the service's map lock for
   * this agent, so an idle check and an append never interleave.
   */
  boolean offer(Pending p) {
    synchronized (this) {
      if (sealed) {
        return false;
      }
      queue.add(p);
      lastUsedNanos = System.nanoTime();
      if (writing) {
        return true;
      }
      writing = true;
    }
    executor.execute(this::drain);
    return true;
  }

  /** The last durable seq as far as this log knows; only the writer caches it, so a reader never races it. */
  long lastSeq() {
    long known = lastSeq;
    return known >= 0 ? known : store.lastSeq(agentId);
  }

  /**
   * Forgets the cached last seq, so that the next write reads it from the store: another server wrote the agent's
   * events since (this one just took its lease). Called while no write of this log runs.
   */
  void forgetSeq() {
    lastSeq = -1;
  }

  void add(Subscription s) {
    subscriptions.add(s);
    touch();
  }

  void remove(Subscription s) {
    subscriptions.remove(s);
    touch();
  }

  /** True when nothing is queued or being written, no one subscribes, and nothing happened since {@code cutoff}. */
  synchronized boolean idleSince(long cutoffNanos) {
    return !sealed && !writing && queue.isEmpty() && subscriptions.isEmpty() && lastUsedNanos - cutoffNanos <= 0;
  }

  /** From now on appends are refused. */
  synchronized void seal() {
    sealed = true;
  }

  synchronized boolean sealed() {
    return sealed;
  }

  /** Appends are taken again (a delete failed). */
  synchronized void unseal() {
    sealed = false;
  }

  /** Waits until everything queued before the seal is written (or failed); false on timeout. */
  synchronized boolean awaitDrained(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (writing || !queue.isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  void closeAll() {
    subscriptions.forEach(Subscription::close);
    subscriptions.clear();
  }

  private synchronized void touch() {
    lastUsedNanos = System.nanoTime();
  }

  private void drain() {
    while (true) {
      List<Pending> batch;
      synchronized (this) {
        if (queue.isEmpty()) {
          writing = false;
          lastUsedNanos = System.nanoTime();
          notifyAll();
          return;
        }
        batch = new ArrayList<>(queue);
        queue.clear();
      }
      try {
        write(batch);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "writing events of agent " + agentId + " failed", e);
      }
    }
  }

  private void write(List<Pending> batch) {
    if (!agentChecked) {
      // A new log (first use, after idle, or after a restart): its agent may have been deleted meanwhile.
      try {
        agentChecked = agentExists.test(agentId);
      } catch (RuntimeException e) {
        batch.forEach(p -> p.fail(e));
        return;
      }
      if (!agentChecked) {
        batch.forEach(p -> p.refuse(agentId));
        return;
      }
    }
    if (failedAt != 0) {
      // What queued while a write failed was meant to follow what was lost: it fails too, so that no turn's events
      // are stored without the ones before them (a reply without its question, a gap in a reply).
      long failed = failedAt;
      List<Pending> behind = batch.stream().filter(p -> p.queuedAt - failed <= 0).toList();
      if (behind.isEmpty()) {
        failedAt = 0;
      } else {
        StoreException cause = new StoreException("not stored: an earlier write of agent " + agentId + " failed", null);
        behind.forEach(p -> p.fail(cause));
        batch = batch.stream().filter(p -> p.queuedAt - failed > 0).toList();
        if (batch.isEmpty()) {
          return;
        }
      }
    }
    List<Pending> merged = merge(batch);
    int from = 0;
    while (from < merged.size()) {
      int to = from;
      long bytes = 0;
      List<ConversationEvent> events = new ArrayList<>();
      long seq;
      try {
        seq = lastSeq();
        while (to < merged.size() && events.size() < EventStore.MAX_EVENTS_PER_CALL) {
          Pending p = merged.get(to);
          long size = p.bytes();
          if (!events.isEmpty() && bytes + size > MAX_BYTES_PER_CALL) {
            break;
          }
          bytes += size;
          events.add(new ConversationEvent(agentId, ++seq, p.turnId, p.at, p.simulated, p.payload));
          to++;
        }
        Fence f = fence.get();
        if (f == null) {
          store.appendEvents(agentId, events);
        } else {
          store.appendEvents(agentId, events, f);
        }
        lastSeq = seq;
      } catch (RuntimeException e) {
        lastSeq = -1;
        failedAt = System.nanoTime();
        for (Pending p : merged.subList(from, merged.size())) {
          p.fail(e);
        }
        return;
      }
      for (int i = 0; i < events.size(); i++) {
        ConversationEvent event = events.get(i);
        merged.get(from + i).complete(event);
        for (Subscription s : subscriptions) {
          s.live(event);
        }
      }
      from = to;
    }
  }

  private static List<Pending> merge(List<Pending> batch) {
    List<Pending> out = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      Pending last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.payload instanceof AssistantText a && p.payload instanceof AssistantText b
          && a.messageId().equals(b.messageId()) && last.turnId.equals(p.turnId) && last.simulated == p.simulated
          && StoredText.utf8Bytes(a.text()) + StoredText.utf8Bytes(b.text()) <= MAX_MERGED_TEXT_BYTES) {
        out.set(out.size() - 1, last.mergedWith(new AssistantText(a.messageId(), a.text() + b.text()), p));
      } else {
        out.add(p);
      }
    }
    return out;
  }

  /** An event waiting to be numbered and stored, with the futures of every append merged into it. */
  static final class Pending {
    final String turnId;
    final EventPayload payload;
    final boolean simulated;
    final Instant at;
    /** When it was queued (System.nanoTime). */
    final long queuedAt = System.nanoTime();
    final CompletableFuture<ConversationEvent> future = new CompletableFuture<>();
    final List<CompletableFuture<ConversationEvent>> alsoWaiting = new ArrayList<>();

    Pending(String turnId, EventPayload payload, boolean simulated, Instant at) {
      this.turnId = turnId;
      this.payload = payload;
      this.simulated = simulated;
      this.at = at;
    }

    Pending mergedWith(EventPayload combined, Pending next) {
      Pending m = new Pending(turnId, combined, simulated, at);
      m.alsoWaiting.add(future);
      m.alsoWaiting.addAll(alsoWaiting);
      m.alsoWaiting.add(next.future);
      m.alsoWaiting.addAll(next.alsoWaiting);
      return m;
    }

    /** The size of the stored form, as the store will write it. */
    long bytes() {
      return EventJson.payloadToString(payload, simulated).getBytes(StandardCharsets.UTF_8).length;
    }

    void complete(ConversationEvent event) {
      future.complete(event);
      alsoWaiting.forEach(f -> f.complete(event));
    }

    void fail(Throwable e) {
      future.completeExceptionally(e);
      alsoWaiting.forEach(f -> f.completeExceptionally(e));
    }

    /** Refused: the agent is being deleted. */
    void refuse(String agentId) {
      fail(PlatformException.notFound("agent " + agentId + " was deleted"));
    }
  }
}
