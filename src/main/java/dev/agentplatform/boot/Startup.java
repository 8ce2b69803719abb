package dev.agentplatform.boot;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentRepository;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.store.PlatformStore;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Builds the store and the runtime when the application starts (not on the first request), logs whether turns
 * can run, closes the turns a stopped server left open, and then marks the application started for the startup
 * probe.
 */
@ApplicationScoped
public class Startup {

  private static final Logger LOG = Logger.getLogger(Startup.class.getName());

  @Inject
  PlatformStore store;

  @Inject
  AgentRepository agents;

  @Inject
  AgentRuntime runtime;

  @Inject
  PlatformMetrics metrics;

  @Inject
  TurnService turns;

  private volatile boolean started;

  void onStart(@Observes @Initialized(ApplicationScoped.class) Object event) {
    try {
      store.name();
      RuntimeStatus status = runtime.status();
      metrics.liveAgents(runtime::liveAgents);
      if (status.available()) {
        LOG.info("turns can run: " + status.reason());
      } else {
        LOG.warning("turns cannot run yet: " + status.reason());
      }
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "start-up failed: " + e.getMessage(), e);
    }
    closeTurnsLeftOpen();
    started = true;
  }

  /**
   * Before anything new runs: every agent still stored as running had its turn on a server that stopped (this one,
   * before a crash or a kill). Where the runtime still runs that turn (a sandbox pod's runner) it goes on here;
   * otherwise it gets its one end event now.
   */
  private void closeTurnsLeftOpen() {
    try {
      for (Agent agent : agents.agentsWithStatus(AgentStatus.RUNNING)) {
        try {
          turns.recoverLeftOpen(agent).ifPresent(r -> LOG.info(r.resumed()
              ? "took up turn " + r.turnId() + " of agent " + agent.id() + ", left running by a server that stopped"
              : "closed turn " + r.turnId() + " of agent " + agent.id() + ", left open by a server that stopped: "
                  + TurnService.SERVER_STOPPED));
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "could not close the open turn of agent " + agent.id() + "; its next message will", e);
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "could not look for turns left open (" + e.getMessage() + "); each agent's next message"
          + " closes its own", e);
    }
  }

  public boolean started() {
    return started;
  }
}
