package dev.agentplatform.conversation;

import dev.agentplatform.agent.AgentDeleted;
import dev.agentplatform.agent.AgentDeleting;
import dev.agentplatform.agent.AgentRepository;
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
import java.util.function.Predicate;
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
 *
 * <p>Deleting an agent seals its log (appends are refused), waits for what was queued, deletes the events, and
 * keeps the sealed log until the agent's record is gone. A new log checks that its agent exists before its first
 * write, so a turn's late event cannot bring back documents under a deleted agent (Firestore has no foreign keys).
 */
@ApplicationScoped
public class ConversationService {

  private static final Logger LOG = Logger.getLogger(ConversationService.class.getName());
  /** How many stored events one replay read fetches. */
  static final int REPLAY_PAGE = 500;
  /** An agent's log unused this long is dropped from memory. */
  static final Duration IDLE_AFTER = Duration.ofSeconds(60);
  /** How long a delete waits for the agent's queued events to be written before deleting them. */
  static final long DRAIN_WAIT_SECONDS = 30;

  @Inject
  EventStore store;

  @Inject
  AgentRepository agents;

  @Inject
  Workers workers;

  private final ConcurrentHashMap<String, AgentLog> logs = new ConcurrentHashMap<>();
  /** The lease each agent's events are written under here, while this server holds it. */
  private final ConcurrentHashMap<String, Fence> fences = new ConcurrentHashMap<>();
  private Predicate<String> agentExists;
  private Duration idleAfter = IDLE_AFTER;
  private Clock clock = Clock.systemUTC();

  public ConversationService() {
  }

  /**
   * For tests and benchmarks outside a container; {@code agentExists} answers for a new log before its first
   * write. Nothing is evicted unless they call {@link #evictIdle}.
   */
  public ConversationService(EventStore store, Predicate<String> agentExists, Workers workers, Duration idleAfter) {
    this.store = store;
    this.agentExists = agentExists;
    this.workers = workers;
    this.idleAfter = idleAfter;
  }

  /** For tests outside a container: every agent exists, and logs are kept a minute. */
  public ConversationService(EventStore store, Workers workers) {
    this(store, id -> true, workers, IDLE_AFTER);
  }

  @PostConstruct
  void init() {
    agentExists = id -> agents.findAgent(id).isPresent();
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
      AgentLog l = log != null ? log : newLog(id);
      if (!l.offer(p)) {
        p.refuse(id);
      }
      return l;
    });
    return p.future;
  }

  /**
   * From now on the agent's events are written under {@code fence} (the lease this server just took).
   * {@code othersWrote}: another server may have written events since this one did, so the next write reads the last
   * seq from the store again.
   */
  public void fence(String agentId, Fence fence, boolean othersWrote) {
    fences.put(agentId, fence);
    if (othersWrote) {
      AgentLog log = logs.get(agentId);
      if (log != null) {
        log.forgetSeq();
      }
    }
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
  public Subscription subscribe(String agentId, long afterSeq, EventSink sink,
      Consumer<RuntimeException> onReplayError) {
    Subscription[] holder = new Subscription[1];
    logs.compute(agentId, (id, log) -> {
      AgentLog l = log != null ? log : newLog(id);
      if (l.sealed()) {
        throw PlatformException.notFound("no agent " + id);
      }
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

  /** Runs after the turn observers (which stop the agent's turn): see {@link #deleteEvents}. */
  void onAgentDeleting(@Observes @Priority(Interceptor.Priority.APPLICATION + 900) AgentDeleting deleting) {
    deleteEvents(deleting.agentId());
  }

  void onAgentDeleted(@Observes AgentDeleted deleted) {
    release(deleted.agentId(), deleted.deleted());
  }

  /**
   * First half of deleting an agent: refuses its further appends, waits for what was queued to be written, and
   * deletes every stored event. On failure the agent's log takes appends again.
   */
  public void deleteEvents(String agentId) {
    // Under the map's lock: an append that came first has queued its event before the seal. A sealed log is made
    // if there is none, so that nothing is appended until the record is gone.
    AgentLog log = logs.compute(agentId, (id, l) -> {
      AgentLog s = l != null ? l : newLog(id);
      s.seal();
      return s;
    });
    try {
      if (!log.awaitDrained(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw PlatformException.unavailable("the agent's last events were not written within "
            + DRAIN_WAIT_SECONDS + " s; try the delete again", null);
      }
      store.deleteEvents(agentId);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      release(agentId, false);
      throw PlatformException.unavailable("interrupted while deleting the agent's events", e);
    } catch (RuntimeException e) {
      release(agentId, false);
      throw e;
    }
  }

  /**
   * Second half: once the agent's record is gone ({@code deleted}), its log and subscriptions go; when the delete
   * failed, its log takes appends again.
   */
  public void release(String agentId, boolean deleted) {
    AgentLog log = logs.get(agentId);
    if (log == null) {
      return;
    }
    if (deleted) {
      if (logs.remove(agentId, log)) {
        log.closeAll();
      }
    } else {
      log.unseal();
    }
  }

  /**
   * Waits until what was queued for the agent is stored and passed to its subscribers, at most {@code wait}; false
   * if it was not by then. True at once when the agent's log is not in memory (nothing is queued).
   */
  public boolean awaitWritten(String agentId, Duration wait) {
    AgentLog log = logs.get(agentId);
    try {
      return log == null || log.awaitDrained(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Drops idle logs. */
  public void evictIdle() {
    long cutoff = System.nanoTime() - idleAfter.toNanos();
    for (String agentId : logs.keySet()) {
      logs.computeIfPresent(agentId, (id, log) -> log.idleSince(cutoff) ? null : log);
    }
  }

  /** How many agents' logs are in memory, for tests and benchmarks. */
  public int size() {
    return logs.size();
  }

  /** Whether an agent's log is in memory, for tests. */
  boolean holds(String agentId) {
    return logs.containsKey(agentId);
  }

  private AgentLog newLog(String agentId) {
    return new AgentLog(agentId, store, agentExists, workers.pool(), () -> fences.get(agentId));
  }
}
