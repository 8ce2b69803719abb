package dev.agentplatform.conversation;

import dev.agentplatform.agent.AgentDeleting;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.error.PlatformException;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The conversations of all agents: appends events (numbered and durably stored before anyone sees them),
 * reads history, and lets clients subscribe from a seq on.
 *
 * <p>An agent's log lives in memory only while it is used: one with no subscriber and nothing queued or being
 * written for {@link #IDLE_AFTER} is dropped, and the next append makes a new one that reads the last seq from
 * the store. Dropping and appending both run under the map's lock for that agent, so two logs of one agent never
 * write at the same time and no seq is assigned twice.
 */
@ApplicationScoped
public class ConversationService {

  private static final Logger LOG = Logger.getLogger(ConversationService.class.getName());
  /** How many stored events one replay read fetches. */
  static final int REPLAY_PAGE = 500;
  /** An agent's log unused this long is dropped from memory. */
  static final Duration IDLE_AFTER = Duration.ofSeconds(60);
  /**
   * How long appends for a deleted agent are still refused: a turn's last events can arrive after the delete,
   * and Firestore would store them under the deleted agent (it has no foreign keys).
   */
  static final Duration DELETED_KEPT = Duration.ofMinutes(10);
  /** How long a delete waits for the agent's queued events to be written before deleting them. */
  static final long DRAIN_WAIT_SECONDS = 30;

  @Inject
  EventStore store;

  @Inject
  Workers workers;

  private final ConcurrentHashMap<String, AgentLog> logs = new ConcurrentHashMap<>();
  /** Agents deleted lately, with the time of the delete (nanos): appends for them are refused. */
  private final ConcurrentHashMap<String, Long> deleted = new ConcurrentHashMap<>();
  private Duration idleAfter = IDLE_AFTER;
  private Duration deletedKept = DELETED_KEPT;
  private Clock clock = Clock.systemUTC();

  public ConversationService() {
  }

  /** For tests and benchmarks outside a container; nothing is evicted unless they call {@link #evictIdle}. */
  public ConversationService(EventStore store, Workers workers, Duration idleAfter, Duration deletedKept) {
    this.store = store;
    this.workers = workers;
    this.idleAfter = idleAfter;
    this.deletedKept = deletedKept;
  }

  /** For tests outside a container, with the production idle times. */
  public ConversationService(EventStore store, Workers workers) {
    this(store, workers, IDLE_AFTER, DELETED_KEPT);
  }

  @PostConstruct
  void scheduleEviction() {
    long every = Math.max(1, idleAfter.toSeconds() / 2);
    workers.scheduler().scheduleWithFixedDelay(() -> {
      try {
        evictIdle();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "evicting idle conversation logs failed", e);
      }
    }, every, every, TimeUnit.SECONDS);
  }

  /**
   * Queues an event for an agent; the future completes with the stored event (its seq assigned) once it is
   * durable, or fails with a {@link dev.agentplatform.error.StoreException} ({@code not_found} when the agent was
   * deleted).
   */
  public CompletableFuture<ConversationEvent> append(String agentId, String turnId, EventPayload payload,
      boolean simulated) {
    // Microseconds: what every store keeps, so an event reads the same live and replayed.
    AgentLog.Pending p = new AgentLog.Pending(turnId, payload, simulated,
        clock.instant().truncatedTo(ChronoUnit.MICROS));
    logs.compute(agentId, (id, log) -> {
      if (deleted.containsKey(id)) {
        p.refuse(id);
        return log;
      }
      AgentLog l = log != null ? log : new AgentLog(id, store, workers.pool());
      if (!l.offer(p)) {
        p.refuse(id);
      }
      return l;
    });
    return p.future;
  }

  /** Stored events with a seq above {@code afterSeq}, at most {@code limit}. */
  public List<ConversationEvent> history(String agentId, long afterSeq, int limit) {
    return store.events(agentId, afterSeq, limit);
  }

  /** The agent's last durable seq (0 when it has no events); reading it keeps nothing in memory. */
  public long lastSeq(String agentId) {
    AgentLog log = logs.get(agentId);
    return log != null ? log.lastSeq() : store.lastSeq(agentId);
  }

  /**
   * Subscribes to an agent's events after {@code afterSeq}: the replay of stored ones runs on a worker, then
   * live events follow. {@code onReplayError} is told if the store cannot be read; the subscription is then
   * closed.
   */
  public Subscription subscribe(String agentId, long afterSeq, EventSink sink, Consumer<RuntimeException> onReplayError) {
    Subscription[] holder = new Subscription[1];
    logs.compute(agentId, (id, log) -> {
      if (deleted.containsKey(id)) {
        throw PlatformException.notFound("no agent " + id);
      }
      AgentLog l = log != null ? log : new AgentLog(id, store, workers.pool());
      holder[0] = new Subscription(agentId, afterSeq, sink, () -> l.remove(holder[0]));
      l.add(holder[0]);
      return l;
    });
    Subscription subscription = holder[0];
    workers.pool().execute(() -> {
      try {
        long after = afterSeq;
        while (true) {
          List<ConversationEvent> page = store.events(agentId, after, REPLAY_PAGE);
          page.forEach(subscription::replayed);
          if (page.size() < REPLAY_PAGE) {
            break;
          }
          after = page.get(page.size() - 1).seq();
        }
        subscription.replayDone();
      } catch (RuntimeException e) {
        subscription.close();
        onReplayError.accept(e);
      }
    });
    return subscription;
  }

  /**
   * Deletes an agent's conversation: refuses its further appends, waits for what was queued to be written, deletes
   * every stored event, closes its subscriptions and drops its log. Runs after the turn observers (which stop the
   * agent's turn) and before the agent's record goes; a failure leaves the agent as it was, to be deleted again.
   */
  void onAgentDeleting(@Observes @Priority(Interceptor.Priority.APPLICATION + 900) AgentDeleting deleting) {
    delete(deleting.agentId());
  }

  /** See {@link #onAgentDeleting}; public for tests and benchmarks outside a container. */
  public void delete(String agentId) {
    deleted.put(agentId, System.nanoTime());
    // Under the map's lock: an append that found no tombstone has queued its event before the seal.
    AgentLog log = logs.compute(agentId, (id, l) -> {
      if (l != null) {
        l.seal();
      }
      return l;
    });
    try {
      if (log != null && !log.awaitDrained(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw PlatformException.unavailable("the agent's last events were not written within "
            + DRAIN_WAIT_SECONDS + " s; try the delete again", null);
      }
      store.deleteEvents(agentId);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      undoDelete(agentId, log);
      throw PlatformException.unavailable("interrupted while deleting the agent's events", e);
    } catch (RuntimeException e) {
      undoDelete(agentId, log);
      throw e;
    }
    if (log != null) {
      logs.remove(agentId, log);
      log.closeAll();
    }
  }

  /** The delete failed: the agent is kept, and its log takes appends again. */
  private void undoDelete(String agentId, AgentLog log) {
    if (log != null) {
      log.unseal();
    }
    deleted.remove(agentId);
  }

  /** Drops idle logs, and forgets deletes older than the time they are refused for. */
  public void evictIdle() {
    long now = System.nanoTime();
    long cutoff = now - idleAfter.toNanos();
    for (String agentId : logs.keySet()) {
      logs.computeIfPresent(agentId, (id, log) -> log.idleSince(cutoff) ? null : log);
    }
    long forgetBefore = now - deletedKept.toNanos();
    deleted.entrySet().removeIf(e -> e.getValue() - forgetBefore <= 0);
  }

  /** How many agents' logs are in memory and how many deletes are remembered, for tests and benchmarks. */
  public Map<String, Integer> sizes() {
    return Map.of("logs", logs.size(), "deleted", deleted.size());
  }

  /** Whether an agent's log is in memory, for tests. */
  boolean holds(String agentId) {
    return logs.containsKey(agentId);
  }
}
