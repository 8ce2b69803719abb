package dev.agentplatform.session;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.websocket.CloseReason;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The open WebSockets, and the sweep that keeps them honest: a connection silent for {@code SESSION_PING_SECONDS}
 * is pinged, one silent (not even a pong) for {@code SESSION_PONG_TIMEOUT_SECONDS} is closed with 1001, so a
 * vanished peer does not hold a socket, a writer and its subscriptions forever. When the server stops, every
 * connection is closed with 1012 (service restart), which tells clients to reconnect, and no new one is kept.
 */
@ApplicationScoped
public class Connections {

  private static final Logger LOG = Logger.getLogger(Connections.class.getName());
  /** The close of a stopping server: the client reconnects (to another replica, or to this one restarted). */
  static final CloseReason SERVICE_RESTART = new CloseReason(CloseReason.CloseCodes.SERVICE_RESTART,
      "the server is restarting: reconnect and resume from your last seq");

  @Inject
  Workers workers;

  @Inject
  PlatformConfig config;

  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private ScheduledFuture<?> sweep;
  private volatile boolean stopping;

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
    if (stopping) {
      // Opened while closeAll ran, which may not have seen it.
      c.closeAfterQueued(SERVICE_RESTART);
    }
  }

  /** Whether the server is stopping: a new connection is then closed at once with 1012. */
  boolean stopping() {
    return stopping;
  }

  /**
   * Closes every connection with 1012 once the frames already queued for it are sent (the last events of the turns
   * the stop interrupted among them), and waits at most {@code wait} for the closes; from now on a new connection
   * is closed at once. Returns how many connections it closed.
   */
  public int closeAll(Duration wait) {
    stopping = true;
    List<Connection> all = List.copyOf(open);
    all.forEach(c -> c.closeAfterQueued(SERVICE_RESTART));
    long deadline = System.nanoTime() + wait.toNanos();
    while (all.stream().anyMatch(open::contains) && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return all.size();
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
