package dev.agentplatform.boot;

import dev.agentplatform.metrics.PlatformMetrics;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.store.PlatformStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Builds the store and the runtime when the application starts (not on the first request), logs whether turns
 * can run, and then marks the application started for the startup probe.
 */
@ApplicationScoped
public class Startup {

  private static final Logger LOG = Logger.getLogger(Startup.class.getName());

  @Inject
  PlatformStore store;

  @Inject
  AgentRuntime runtime;

  @Inject
  PlatformMetrics metrics;

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
    started = true;
  }

  public boolean started() {
    return started;
  }
}
