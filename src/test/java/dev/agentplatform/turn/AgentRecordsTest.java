package dev.agentplatform.turn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.concurrent.Workers;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An agent's queue of record changes is in memory only while it holds changes, and no change is lost. */
class AgentRecordsTest {

  /** Agents kept in a map, in place of the store; each save counts down. */
  private static final class Agents extends AgentService {
    final Map<String, Agent> saved = new ConcurrentHashMap<>();
    volatile CountDownLatch saves = new CountDownLatch(0);

    @Override
    public Agent find(String agentId) {
      return saved.computeIfAbsent(agentId, id -> new Agent(id, "u", "n", "", "sonnet", List.of(), AgentStatus.IDLE,
          null, Instant.EPOCH, Instant.EPOCH));
    }

    @Override
    public void saveState(Agent agent) {
      saved.put(agent.id(), agent);
      saves.countDown();
    }
  }

  @Test
  void queuesAreDroppedOnceWrittenAndEveryChangeLands() throws Exception {
    Agents agents = new Agents();
    Workers workers = new Workers();
    AgentRecords records = new AgentRecords(agents, workers.pool());
    int n = 1000;
    agents.saves = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      String session = "s" + i;
      records.update("agent-" + i, a -> a.withCliSessionId(session, Instant.EPOCH));
    }
    // Every agent's change is written; the queue goes as it empties, so none is left behind.
    assertEquals(true, agents.saves.await(30, TimeUnit.SECONDS));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (records.size() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, records.size(), "no queue is kept for an agent with nothing to write");
    for (int i = 0; i < n; i++) {
      assertEquals("s" + i, agents.saved.get("agent-" + i).cliSessionId());
    }

    // Many changes to one agent while its queue comes and goes: the last one wins, in order.
    agents.saves = new CountDownLatch(1);
    for (int i = 0; i < 500; i++) {
      String session = "x" + i;
      records.update("busy", a -> a.withCliSessionId(session, Instant.EPOCH));
    }
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!"x499".equals(agents.find("busy").cliSessionId()) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals("x499", agents.find("busy").cliSessionId());
    while (records.size() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, records.size());
  }
}
