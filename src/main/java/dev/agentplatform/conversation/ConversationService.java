package dev.agentplatform.conversation;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.store.PlatformStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The conversations of all agents: appends events (numbered and durably stored before anyone sees them),
 * reads history, and lets clients subscribe from a seq on.
 */
@ApplicationScoped
public class ConversationService {

  /** How many stored events one replay read fetches. */
  static final int REPLAY_PAGE = 500;

  @Inject
  PlatformStore store;

  @Inject
  Workers workers;

  private final ConcurrentHashMap<String, AgentLog> logs = new ConcurrentHashMap<>();
  private Clock clock = Clock.systemUTC();

  public ConversationService() {
  }

  /** For tests outside a container. */
  public ConversationService(PlatformStore store, Workers workers) {
    this.store = store;
    this.workers = workers;
  }

  /**
   * Queues an event for an agent; the future completes with the stored event (its seq assigned) once it is
   * durable, or fails with a {@link dev.agentplatform.store.StoreException}.
   */
  public CompletableFuture<ConversationEvent> append(String agentId, String turnId, EventPayload payload,
      boolean simulated) {
    // Microseconds: what every store keeps, so an event reads the same live and replayed.
    return log(agentId).append(turnId, payload, simulated, clock.instant().truncatedTo(ChronoUnit.MICROS));
  }

  /** Stored events with a seq above {@code afterSeq}, at most {@code limit}. */
  public List<ConversationEvent> history(String agentId, long afterSeq, int limit) {
    return store.events(agentId, afterSeq, limit);
  }

  /** The agent's last durable seq (0 when it has no events). */
  public long lastSeq(String agentId) {
    return log(agentId).lastSeq();
  }

  /**
   * Subscribes to an agent's events after {@code afterSeq}: the replay of stored ones runs on a worker, then
   * live events follow. {@code onReplayError} is told if the store cannot be read; the subscription is then
   * closed.
   */
  public Subscription subscribe(String agentId, long afterSeq, EventSink sink, Consumer<RuntimeException> onReplayError) {
    AgentLog log = log(agentId);
    Subscription[] holder = new Subscription[1];
    Subscription subscription = new Subscription(agentId, afterSeq, sink, () -> log.remove(holder[0]));
    holder[0] = subscription;
    log.add(subscription);
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

  /** Drops an agent's log and its subscriptions (after the agent was deleted). */
  public void forget(String agentId) {
    AgentLog log = logs.remove(agentId);
    if (log != null) {
      log.closeAll();
    }
  }

  private AgentLog log(String agentId) {
    return logs.computeIfAbsent(agentId, id -> new AgentLog(id, store, workers.pool()));
  }
}
