package dev.agentplatform.agent;

import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.error.PlatformException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Creates, reads, changes and deletes agents on behalf of a user; a user only ever sees their own agents
 * (another user's agent is {@code not_found}, exactly like one that does not exist).
 */
@ApplicationScoped
public class AgentService {

  private static final Pattern AGENT_ID = Pattern.compile("[a-f0-9]{32}");

  @Inject
  AgentRepository store;

  @Inject
  PlatformConfig config;

  @Inject
  jakarta.enterprise.event.Event<AgentDeleting> deleting;

  @Inject
  jakarta.enterprise.event.Event<AgentDeleted> deleted;

  private final Clock clock = Clock.systemUTC();

  public Agent create(String userId, AgentDraft draft) {
    AgentDraft valid = AgentRules.validate(draft, config.defaultModel());
    var now = clock.instant();
    Agent agent = new Agent(UUID.randomUUID().toString().replace("-", ""), userId, valid.name(),
        valid.instructions(), valid.model(), valid.allowedTools(), AgentStatus.IDLE, null, now, now);
    store.createAgent(agent);
    return agent;
  }

  public List<Agent> list(String userId) {
    return store.listAgents(userId);
  }

  /** The user's agent, or {@code not_found}. */
  public Agent require(String userId, String agentId) {
    if (agentId == null || !AGENT_ID.matcher(agentId).matches()) {
      throw PlatformException.notFound("no agent " + describe(agentId));
    }
    return store.findAgent(agentId).filter(a -> a.ownerId().equals(userId))
        .orElseThrow(() -> PlatformException.notFound("no agent " + describe(agentId)));
  }

  /** Applies validated changes to the user's agent and returns it as stored. */
  public Agent update(String userId, String agentId, AgentChanges changes) {
    AgentChanges valid = AgentRules.validate(changes);
    Agent current = require(userId, agentId);
    Agent updated = current.withChanges(valid, clock.instant());
    if (!store.updateSettings(updated)) {
      throw PlatformException.notFound("no agent " + describe(agentId));
    }
    return updated;
  }

  /** Records runtime facts (status, CLI session) without a user check: only the turn machinery calls this. */
  public void saveState(Agent agent) {
    store.updateState(agent.id(), agent.status(), agent.cliSessionId(), agent.updatedAt());
  }

  public Agent find(String agentId) {
    return store.findAgent(agentId).orElseThrow(() -> PlatformException.notFound("no agent " + describe(agentId)));
  }

  /**
   * Deletes the user's agent: the observers of {@link AgentDeleting} stop its turn, delete its events and drop
   * what memory holds of it; only then does its record go, so a failed delete can be tried again.
   * {@link AgentDeleted} says how it ended.
   */
  public void delete(String userId, String agentId) {
    require(userId, agentId);
    boolean gone = false;
    try {
      deleting.fire(new AgentDeleting(userId, agentId));
      store.deleteAgent(agentId);
      gone = true;
    } finally {
      deleted.fire(new AgentDeleted(userId, agentId, gone));
    }
  }

  private static String describe(String agentId) {
    if (agentId == null) {
      return "(no id)";
    }
    return agentId.length() > 64 ? agentId.substring(0, 64) + "..." : agentId;
  }
}
