package dev.agentplatform.runtime.cli;

import dev.agentplatform.runtime.TurnRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * A runtime's kept-warm CLIs, one per agent: reused while alive, idle and started with the agent's current
 * settings, replaced otherwise, forgotten when they end, and stopped after a time without a message.
 */
public final class CliSessions {

  private static final Logger LOG = Logger.getLogger(CliSessions.class.getName());

  private final Map<String, CliSession> sessions = new ConcurrentHashMap<>();

  /**
   * The agent's CLI for this turn, reserved for it (the idle reaper leaves it alone until the turn runs): the warm
   * one if it fits, is alive and idle, else a new one from {@code spawn} (which gets this object's {@link #forget}
   * to call when the CLI ends).
   */
  public CliSession acquire(TurnRequest request, Function<TurnRequest, CliSession> spawn) {
    CliSession session = sessions.get(request.agentId());
    if (session != null && (!session.settings().equals(request.settings()) || !session.alive() || !session.claim())) {
      sessions.remove(request.agentId(), session);
      session.kill();
      session = null;
    }
    if (session == null) {
      session = spawn.apply(request);
      session.claim();
      sessions.put(request.agentId(), session);
    }
    return session;
  }

  /** Forgets a CLI that ended (if it is still the agent's). */
  public void forget(CliSession ended) {
    sessions.remove(ended.agentId(), ended);
  }

  /** Stops the agent's CLI, if one runs. */
  public void release(String agentId) {
    CliSession session = sessions.remove(agentId);
    if (session != null) {
      session.kill();
    }
  }

  /** Stops the CLIs that have waited longer than {@code limit} for a message. */
  public void stopIdle(Duration limit) {
    long now = System.nanoTime();
    for (CliSession s : List.copyOf(sessions.values())) {
      if (s.retireIfIdle(limit.toNanos(), now)) {
        sessions.remove(s.agentId(), s);
        LOG.fine(() -> "stopping the idle CLI of agent " + s.agentId() + " (" + s.describe() + ")");
        s.kill();
      }
    }
  }

  /** How many agents have a CLI. */
  public int size() {
    return sessions.size();
  }

  /** How many of the owner's agents have a CLI. */
  public long countOf(String ownerId) {
    return sessions.values().stream().filter(s -> s.ownerId().equals(ownerId)).count();
  }

  /** Stops every CLI. */
  public void killAll() {
    takeAll().forEach(CliSession::kill);
  }

  /** Forgets every CLI and hands them over (to be stopped by the caller, for example all at once). */
  public List<CliSession> takeAll() {
    List<CliSession> all = List.copyOf(sessions.values());
    all.forEach(s -> sessions.remove(s.agentId(), s));
    return all;
  }
}
