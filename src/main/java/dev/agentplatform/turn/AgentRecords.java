package dev.agentplatform.turn;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.concurrent.SerialQueue;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps an agent's stored record (status, CLI session id) up to date off the turn's hot path: changes queue per
 * agent, in order, and each batch is one read and one write, so a slow store never stalls reading the CLI's output.
 */
final class AgentRecords {

  private static final Logger LOG = Logger.getLogger(AgentRecords.class.getName());

  private final AgentService agents;
  private final Executor executor;
  private final ConcurrentHashMap<String, SerialQueue<UnaryOperator<Agent>>> queues = new ConcurrentHashMap<>();

  AgentRecords(AgentService agents, Executor executor) {
    this.agents = agents;
    this.executor = executor;
  }

  void update(String agentId, UnaryOperator<Agent> change) {
    queues.computeIfAbsent(agentId, id -> new SerialQueue<>(executor, 0, batch -> write(id, batch))).offer(change);
  }

  void forget(String agentId) {
    queues.remove(agentId);
  }

  private void write(String agentId, List<UnaryOperator<Agent>> changes) {
    try {
      Agent before = agents.find(agentId);
      Agent after = before;
      for (UnaryOperator<Agent> change : changes) {
        after = change.apply(after);
      }
      if (!after.equals(before)) {
        agents.saveState(after);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "could not record the state of agent " + agentId, e);
    }
  }
}
