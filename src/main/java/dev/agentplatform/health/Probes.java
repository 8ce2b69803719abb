package dev.agentplatform.health;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.store.PlatformStore;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Asks the store and the runtime whether they can serve, at start and then every {@link #EVERY_SECONDS} s on a
 * worker, and keeps the answer: readiness only reads it, so a probe request never pings the store, starts a
 * process ({@code claude --version}) or calls the Docker Engine.
 */
@ApplicationScoped
public class Probes {

  private static final Logger LOG = Logger.getLogger(Probes.class.getName());
  static final long EVERY_SECONDS = 5;

  /**
   * What the last probe found; {@code sandbox} is null for a runtime without one to report, {@code checkedAt} is 0
   * before the first probe ended.
   */
  public record Result(boolean storeUp, String store, RuntimeStatus runtime, String sandbox, long checkedAt) {
  }

  @Inject
  PlatformStore store;

  @Inject
  AgentRuntime runtime;

  @Inject
  Workers workers;

  private final AtomicBoolean running = new AtomicBoolean();
  private volatile Result last = new Result(false, "not checked yet", RuntimeStatus.down("not checked yet"), null,
      0);

  /**
   * The first probe runs during start-up, before {@code boot.Startup} marks the application started (an earlier
   * priority), so readiness has an answer as soon as the startup probe is up.
   */
  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION
      + 100) @Initialized(ApplicationScoped.class) Object event) {
    refresh();
    // The timer thread only hands the probe to the pool: a slow store must not delay turn timeouts.
    workers.scheduler().scheduleWithFixedDelay(() -> workers.pool().execute(this::refresh), EVERY_SECONDS,
        EVERY_SECONDS, TimeUnit.SECONDS);
  }

  /** The last answer, without asking anything. */
  public Result last() {
    return last;
  }

  /** Asks the store and the runtime now (one probe at a time; a call during one returns at once). */
  void refresh() {
    if (!running.compareAndSet(false, true)) {
      return;
    }
    try {
      boolean storeUp;
      String storeDetail;
      try {
        store.ping();
        storeUp = true;
        storeDetail = store.name() + ": reachable";
      } catch (RuntimeException e) {
        storeUp = false;
        storeDetail = store.name() + ": " + e.getMessage();
      }
      RuntimeStatus status;
      try {
        status = runtime.status();
      } catch (RuntimeException e) {
        status = RuntimeStatus.down(String.valueOf(e.getMessage()));
      }
      String sandbox;
      try {
        sandbox = runtime.sandbox().orElse(null);
      } catch (RuntimeException e) {
        sandbox = "unknown: " + e.getMessage();
      }
      last = new Result(storeUp, storeDetail, status, sandbox, System.currentTimeMillis());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "the readiness probe failed", e);
    } finally {
      running.set(false);
    }
  }
}
