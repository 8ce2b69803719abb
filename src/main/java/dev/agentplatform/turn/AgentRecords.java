package dev.agentplatform.turn;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentService;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps an agent's stored record (status, CLI session id) up to date off the turn's hot path: changes queue per
 * agent, in order, and each batch is one read and one write, so a slow store never stalls reading the CLI's output.
 *
 * <p>An agent's queue is in memory only while it holds changes: the writer drops it when it finds it empty, under
 * the map's lock for that agent, so a change offered at the same time either joins it or starts a new one.
 */
final class AgentRecords {

  private static final Logger LOG = Logger.getLogger(AgentRecords.class.getName());

  private final AgentService agents;
  private final Executor executor;
  private final ConcurrentHashMap<String, Changes> queues = new ConcurrentHashMap<>();

  AgentRecords(AgentService agents, Executor executor) {
    this.agents = agents;
    this.executor = executor;
  }

  void update(String agentId, UnaryOperator<Agent> change) {
    boolean[] start = new boolean[1];
    queues.compute(agentId, (id, q) -> {
      Changes c = q != null ? q : new Changes();
      c.waiting.add(change);
      start[0] = q == null;
      return c;
    });
    if (start[0]) {
      executor.execute(() -> drain(agentId));
    }
  }

  /** Drops the agent's queued changes (it was deleted); a change being written still is, and finds no record. */
  void forget(String agentId) {
    queues.remove(agentId);
  }

  /**
   * Waits until no agent has changes waiting or being written, or until {@code deadlineNanos} (System.nanoTime);
   * false if some still had. For a stopping server: a short poll, not a notification on every write.
   */
  boolean awaitWritten(long deadlineNanos) {
    while (!queues.isEmpty()) {
      if (System.nanoTime() - deadlineNanos >= 0) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return queues.isEmpty();
      }
    }
    return true;
  }

  /** How many agents have changes waiting, for tests. */
  int size() {
    return queues.size();
  }

  private void drain(String agentId) {
    while (true) {
      List<UnaryOperator<Agent>> batch = new ArrayList<>();
      queues.computeIfPresent(agentId, (id, c) -> {
        batch.addAll(c.waiting);
        c.waiting.clear();
        return batch.isEmpty() ? null : c;
      });
      if (batch.isEmpty()) {
        return;
      }
      write(agentId, batch);
    }
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

  /** One agent's changes waiting to be written; only touched under the map's lock for the agent. */
  private static final class Changes {
    final ArrayDeque<UnaryOperator<Agent>> waiting = new ArrayDeque<>();
  }
}
