package dev.agentplatform.turn;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentService;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.TurnRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts an agent's CLI in the background when a client opens or creates the agent, so that its first message
 * takes the warm path (tens of milliseconds to the first text instead of the CLI's start-up); the runtime bounds how
 * many CLIs stay warm (CLI_WARM_LIMIT).
 */
@ApplicationScoped
public class CliWarmUp {

  private static final Logger LOG = Logger.getLogger(CliWarmUp.class.getName());

  @Inject
  AgentService agents;

  @Inject
  AgentRuntime runtime;

  @Inject
  TurnService turns;

  @Inject
  Workers workers;

  /** Warms the agent's CLI on a worker; returns at once, and a failure only loses the head start. */
  public void warm(String userId, String agentId) {
    workers.pool().execute(() -> {
      try {
        if (turns.isRunning(agentId) || !runtime.status().available()) {
          return;
        }
        // Read again on the worker: the agent may have been deleted or changed since the request.
        Agent agent = agents.require(userId, agentId);
        runtime.prepare(TurnRequest.warmUp(agent.ownerId(), agent.id(), agent.settings(), agent.cliSessionId()));
      } catch (PlatformException e) {
        LOG.log(Level.FINE, "warming the CLI of agent " + agentId + " was skipped: " + e.getMessage(), e);
      } catch (RuntimeException e) {
        LOG.log(Level.INFO, "warming the CLI of agent " + agentId + " failed; its next message starts one", e);
      }
    });
  }
}
