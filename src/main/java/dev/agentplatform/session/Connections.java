package dev.agentplatform.session;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The open WebSockets, and the sweep that keeps them honest: a connection silent for {@code SESSION_PING_SECONDS}
 * is pinged, one silent (not even a pong) for {@code SESSION_PONG_TIMEOUT_SECONDS} is closed with 1001, so a
 * vanished peer does not hold a socket, a writer and its subscriptions forever.
 */
@ApplicationScoped
public class Connections {

  private static final Logger LOG = Logger.getLogger(Connections.class.getName());

  @Inject
  Workers workers;

  @Inject
  PlatformConfig config;

  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private ScheduledFuture<?> sweep;

  @PostConstruct
  void start() {
    if (config.sessionPing().isZero()) {
      return;
    }
    sweep = workers.scheduler().scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
  }

  @PreDestroy
  void stop() {
    if (sweep != null) {
      sweep.cancel(false);
    }
  }

  void add(Connection c) {
    open.add(c);
  }

  void remove(Connection c) {
    open.remove(c);
  }

  private void sweep() {
    try {
      sweepOnce();
    } catch (RuntimeException e) {
      // A failure must not end the schedule (an exception would cancel it silently).
      LOG.log(java.util.logging.Level.WARNING, "the WebSocket ping sweep failed", e);
    }
  }

  private void sweepOnce() {
    long now = System.nanoTime();
    long ping = config.sessionPing().toNanos();
    long timeout = config.sessionPongTimeout().toNanos();
    for (Connection c : open) {
      if (c.isClosed()) {
        open.remove(c);
      } else if (c.silentNanos(now) >= timeout) {
        LOG.info(() -> "closing a WebSocket of user " + c.userId() + ": no answer to pings for "
            + config.sessionPongTimeout().toSeconds() + " s");
        open.remove(c);
        c.closeSoon(Connection.SILENT);
      } else if (c.silentNanos(now) >= ping) {
        c.pingIfDue(now, ping);
      }
    }
  }
}
