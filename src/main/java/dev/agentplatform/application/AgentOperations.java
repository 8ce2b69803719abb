package dev.agentplatform.application;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentChanges;
import dev.agentplatform.agent.AgentDraft;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventSink;
import dev.agentplatform.conversation.Subscription;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.turn.CliWarmUp;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a user can do with agents and their conversations, the same through the WebSocket and REST: each call
 * checks that the agent is the user's ({@code not_found} otherwise), shows statuses as clients should see them
 * and counts what the metrics count. The two front doors only translate frames and requests into these calls.
 */
@ApplicationScoped
public class AgentOperations {

  /** The largest page of history one call returns. */
  public static final int MAX_PAGE = 1000;

  @Inject
  AgentService agents;

  @Inject
  TurnService turns;

  @Inject
  ConversationService conversations;

  @Inject
  PlatformMetrics metrics;

  @Inject
  CliWarmUp warmUp;

  /** An agent with the seq of its last event. */
  public record AgentView(Agent agent, long lastSeq) {
  }

  /** A page of history: the events, whether more follow, and the seq to ask after next. */
  public record Page(List<ConversationEvent> events, boolean hasMore, long nextAfter) {
  }

  public Agent create(String user, AgentDraft draft) {
    Agent agent = agents.create(user, draft);
    metrics.agentCreated();
    warmUp.warm(user, agent.id()); // in the background: its first message then finds its CLI started
    return agent;
  }

  public List<Agent> list(String user) {
    return agents.list(user).stream().map(turns::effective).toList();
  }

  public AgentView get(String user, String agentId) {
    Agent agent = turns.effective(agents.require(user, agentId));
    return new AgentView(agent, conversations.lastSeq(agent.id()));
  }

  public Agent update(String user, String agentId, AgentChanges changes) {
    return turns.effective(agents.update(user, agentId, changes));
  }

  public void delete(String user, String agentId) {
    agents.delete(user, agentId);
    metrics.agentDeleted();
  }

  /** Starts a turn; {@code busy} while one runs, {@code unavailable} when the runtime cannot take it. */
  public TurnService.Started send(String user, String agentId, String text) {
    return turns.send(user, agentId, text);
  }

  public boolean interrupt(String user, String agentId) {
    return turns.interrupt(user, agentId);
  }

  /** The user's agent, or {@code not_found}: what {@link #lastSeq} and {@link #subscribe} take, checked once. */
  public Agent requireOwned(String user, String agentId) {
    return agents.require(user, agentId);
  }

  /** The seq of the agent's last event (what a subscription that wants only new events starts after). */
  public long lastSeq(Agent owned) {
    return conversations.lastSeq(owned.id());
  }

  /**
   * Subscribes to the agent's events after {@code afterSeq}: stored ones first, then live ones. The sink runs on the
   * agent log's writer thread and must not block.
   *
   * @param owned the agent as {@link #requireOwned} returned it
   */
  public Subscription subscribe(Agent owned, long afterSeq, EventSink sink, Consumer<RuntimeException> onReplayError) {
    Subscription subscription = conversations.subscribe(owned.id(), afterSeq, sink, onReplayError);
    warmUp.warm(owned.ownerId(), owned.id()); // a client that opens an agent is about to talk to it
    return subscription;
  }

  /** At most {@code limit} (1 to {@link #MAX_PAGE}) events with a seq above {@code afterSeq}. */
  public Page history(String user, String agentId, long afterSeq, int limit) {
    Agent agent = agents.require(user, agentId);
    if (afterSeq < 0) {
      throw PlatformException.badRequest("after: must be 0 or more");
    }
    if (limit < 1 || limit > MAX_PAGE) {
      throw PlatformException.badRequest("limit: must be between 1 and " + MAX_PAGE);
    }
    List<ConversationEvent> page = conversations.history(agent.id(), afterSeq, limit + 1);
    boolean more = page.size() > limit;
    List<ConversationEvent> shown = more ? page.subList(0, limit) : page;
    long next = shown.isEmpty() ? afterSeq : shown.get(shown.size() - 1).seq();
    return new Page(shown, more, next);
  }
}
