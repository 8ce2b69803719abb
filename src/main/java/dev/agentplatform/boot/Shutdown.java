package dev.agentplatform.boot;

import dev.agentplatform.session.Connections;
import dev.agentplatform.turn.TurnService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Stops the platform gracefully when the server is told to stop, while the store and the WebSockets still work: no
 * new turn starts, each running turn is recorded as interrupted ("server stopping"), and every WebSocket is closed
 * with 1012 so that its page reconnects. Then the server's own stop goes on.
 *
 * <p>Why a SIGTERM handler: Liberty's stop begins with a quiesce that drops every open TCP connection, WebSockets
 * included (the client sees 1006, no close frame), before the application hears of the stop (measured: the socket
 * was gone about a second before {@code contextDestroyed}, the earliest callback an application gets, and before
 * {@code @BeforeDestroyed(ApplicationScoped.class)} just after it). So on SIGTERM (a pod's stop, {@code docker
 * stop}) this class runs first and then hands the signal back to the JVM's own handler, which runs Liberty's stop and
 * exits with 143. A stop without the signal ({@code server stop}) gets the same steps when the application context
 * is destroyed; by then the WebSockets are gone, but the turns are still recorded.
 */
@ApplicationScoped
public class Shutdown {

  private static final Logger LOG = Logger.getLogger(Shutdown.class.getName());
  /** The most the running turns may take to end and be stored: a pod's whole grace period is 30 s. */
  static final Duration TURNS_WAIT = Duration.ofSeconds(10);
  /** The most the WebSocket closes may take (a peer that does not read holds its close). */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(3);
  private static final Signal TERM = new Signal("TERM");

  @Inject
  TurnService turns;

  @Inject
  Connections connections;

  private final AtomicBoolean stopped = new AtomicBoolean();
  /** The JVM's own SIGTERM handler, while this class's is installed in its place. */
  private volatile SignalHandler jvmHandler;

  void onStart(@Observes @Initialized(ApplicationScoped.class) Object event) {
    try {
      jvmHandler = Signal.handle(TERM, this::onSigterm);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      // A JVM that keeps SIGTERM to itself (-Xrs): the stop below still runs when the application stops.
      LOG.warning("no SIGTERM handler (" + e.getMessage() + "): on a stop, WebSockets close without 1012");
    }
  }

  /** The application stops (the server stops, or the application is redeployed). */
  void onStop(@Observes @BeforeDestroyed(ApplicationScoped.class) Object event) {
    SignalHandler jvm = jvmHandler;
    if (jvm != null) {
      // The next application (a redeploy) installs its own; a stopping JVM needs none.
      jvmHandler = null;
      Signal.handle(TERM, jvm);
    }
    stop("the application stops");
  }

  /** Runs on a thread the JVM starts for the signal; Liberty's stop begins only when this hands the signal on. */
  private void onSigterm(Signal signal) {
    stop("SIGTERM");
    SignalHandler jvm = jvmHandler;
    if (jvm != null) {
      jvmHandler = null;
      Signal.handle(TERM, jvm);
    }
    // Delivered again to the JVM's own handler (or the default action): Liberty stops and the JVM exits with 143.
    Signal.raise(TERM);
  }

  /**
   * The graceful steps, once, bounded by {@link #TURNS_WAIT} and {@link #CLOSE_WAIT}; a second caller (a second
   * SIGTERM) waits until the first is done, so that it cannot hand the signal on while the turns are still stored.
   */
  private synchronized void stop(String why) {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    long t0 = System.nanoTime();
    int ended = 0;
    int closed = 0;
    try {
      ended = turns.stopAll(TURNS_WAIT);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "ending the running turns at stop failed; the next start closes them", e);
    }
    try {
      closed = connections.closeAll(CLOSE_WAIT);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "closing the WebSockets at stop failed", e);
    }
    LOG.info("stopping (" + why + "): " + ended + " running turn(s) recorded as interrupted, " + closed
        + " WebSocket(s) closed with 1012, in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }
}
