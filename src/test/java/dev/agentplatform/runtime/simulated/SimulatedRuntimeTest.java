package dev.agentplatform.runtime.simulated;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The demo runtime answers with a canned echo that says it is simulated, and can be stopped. */
class SimulatedRuntimeTest {

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  private static TurnRequest request(String text) {
    return new TurnRequest("u1", "a1", "t1", text, new AgentSettings("", "", List.of()), null);
  }

  private static List<RuntimeEvent> until(BlockingQueue<RuntimeEvent> events) throws InterruptedException {
    List<RuntimeEvent> out = new ArrayList<>();
    while (out.isEmpty() || !out.get(out.size() - 1).isFinal()) {
      RuntimeEvent e = events.poll(5, TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("no final event: " + out);
      }
      out.add(e);
    }
    return out;
  }

  @Test
  void aTurnIsACannedEchoThatSaysItIsSimulated() throws Exception {
    SimulatedRuntime runtime = new SimulatedRuntime(scheduler);
    assertEquals("simulated", runtime.name(), "the turn service marks events of this runtime as simulated");
    assertTrue(runtime.status().reason().contains("no model or CLI"));
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(request("hello"), events::add);
    List<RuntimeEvent> out = until(events);
    StringBuilder text = new StringBuilder();
    out.stream().filter(RuntimeEvent.TextDelta.class::isInstance)
        .forEach(e -> text.append(((RuntimeEvent.TextDelta) e).text()));
    assertEquals("(simulated) You said: hello", text.toString());
    assertInstanceOf(RuntimeEvent.Completed.class, out.get(out.size() - 1));
    scheduler.shutdownNow();
  }

  @Test
  void aStoppedTurnEndsStopped() throws Exception {
    SimulatedRuntime runtime = new SimulatedRuntime(scheduler);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(request("hello"), events::add).stop();
    List<RuntimeEvent> out = until(events);
    assertInstanceOf(RuntimeEvent.Stopped.class, out.get(out.size() - 1));
    scheduler.shutdownNow();
  }
}
