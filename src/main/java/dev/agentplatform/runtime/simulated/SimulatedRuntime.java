package dev.agentplatform.runtime.simulated;

import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A stand-in runtime for demos without a model, used only when {@code AGENT_RUNTIME=simulated} is set: it
 * answers with a canned echo, and every event it causes is marked {@code simulated}.
 */
public final class SimulatedRuntime implements AgentRuntime {

  private final ScheduledExecutorService scheduler;

  public SimulatedRuntime(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  @Override
  public String name() {
    return "simulated";
  }

  @Override
  public RuntimeStatus status() {
    return RuntimeStatus.ok("simulated runtime: replies are canned, no model or CLI is involved");
  }

  @Override
  public RunningTurn start(TurnRequest request, TurnListener listener) {
    AtomicBoolean done = new AtomicBoolean();
    String reply = "(simulated) You said: " + request.text();
    String messageId = "sim_" + request.turnId();
    listener.onEvent(new RuntimeEvent.SessionStarted("simulated-" + request.agentId()));
    ScheduledFuture<?> task = scheduler.schedule(() -> {
      int third = Math.max(1, reply.length() / 3);
      for (int i = 0; i < reply.length() && !done.get(); i += third) {
        String part = reply.substring(i, Math.min(reply.length(), i + third));
        listener.onEvent(new RuntimeEvent.TextDelta(messageId, part));
      }
      if (done.compareAndSet(false, true)) {
        listener.onEvent(new RuntimeEvent.Completed(reply, Usage.NONE, 0, 0, 1, "simulated-" + request.agentId()));
      }
    }, 50, TimeUnit.MILLISECONDS);
    return () -> {
      if (done.compareAndSet(false, true)) {
        task.cancel(false);
        listener.onEvent(new RuntimeEvent.Stopped());
      }
    };
  }

  @Override
  public void release(String agentId) {
  }

  @Override
  public void deleteWorkspace(String ownerId, String agentId) {
  }

  @Override
  public int liveAgents() {
    return 0;
  }

  @Override
  public void close() {
  }
}
