package dev.agentplatform.conversation;

import dev.agentplatform.concurrent.SerialQueue;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.store.PlatformStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executor;

/**
 * One agent's event log: a single writer numbers queued events, stores each batch in one call (group
 * commit), and only then hands them to subscribers.
 *
 * <p>Consecutive text deltas of the same message that queue up while a write is in flight are merged into one
 * event, so a slow store gets fewer, larger writes while a fast one streams delta by delta; no text is lost
 * either way.
 */
final class AgentLog {

  private final String agentId;
  private final PlatformStore store;
  private final SerialQueue<Pending> queue;
  private final Set<Subscription> subscriptions = new CopyOnWriteArraySet<>();
  /** The last durable seq; -1 until read from the store (and after a failed write, to re-read it). */
  private volatile long lastSeq = -1;

  AgentLog(String agentId, PlatformStore store, Executor executor) {
    this.agentId = agentId;
    this.store = store;
    this.queue = new SerialQueue<>(executor, 0, this::write);
  }

  CompletableFuture<ConversationEvent> append(String turnId, EventPayload payload, boolean simulated, Instant at) {
    Pending p = new Pending(turnId, payload, simulated, at);
    queue.offer(p);
    return p.future;
  }

  /** The last durable seq as far as this log knows; only the writer caches it, so a reader never races it. */
  long lastSeq() {
    long known = lastSeq;
    return known >= 0 ? known : store.lastSeq(agentId);
  }

  void add(Subscription s) {
    subscriptions.add(s);
  }

  void remove(Subscription s) {
    subscriptions.remove(s);
  }

  void closeAll() {
    subscriptions.forEach(Subscription::close);
    subscriptions.clear();
  }

  private void write(List<Pending> batch) {
    List<Pending> merged = merge(batch);
    List<ConversationEvent> events = new ArrayList<>(merged.size());
    try {
      long seq = lastSeq();
      for (Pending p : merged) {
        events.add(new ConversationEvent(agentId, ++seq, p.turnId, p.at, p.simulated, p.payload));
      }
      store.appendEvents(agentId, events);
      lastSeq = seq;
    } catch (RuntimeException e) {
      lastSeq = -1;
      for (Pending p : batch) {
        p.future.completeExceptionally(e);
      }
      return;
    }
    for (int i = 0; i < merged.size(); i++) {
      ConversationEvent event = events.get(i);
      merged.get(i).complete(event);
      for (Subscription s : subscriptions) {
        s.live(event);
      }
    }
  }

  private static List<Pending> merge(List<Pending> batch) {
    List<Pending> out = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      Pending last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.payload instanceof AssistantText a && p.payload instanceof AssistantText b
          && a.messageId().equals(b.messageId()) && last.turnId.equals(p.turnId) && last.simulated == p.simulated) {
        out.set(out.size() - 1, last.mergedWith(new AssistantText(a.messageId(), a.text() + b.text()), p));
      } else {
        out.add(p);
      }
    }
    return out;
  }

  /** An event waiting to be numbered and stored, with the futures of every append merged into it. */
  private static final class Pending {
    final String turnId;
    final EventPayload payload;
    final boolean simulated;
    final Instant at;
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

    void complete(ConversationEvent event) {
      future.complete(event);
      alsoWaiting.forEach(f -> f.complete(event));
    }
  }
}
