package dev.agentplatform.runtime.cli;

import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * A runtime's kept-warm CLIs, one per agent: reused while alive, idle and started with the agent's current
 * settings, replaced otherwise, forgotten when they end, and stopped after a time without a message; at most a
 * configured number at once, the least recently used idle one stopped first.
 */
public final class CliSessions {

  private static final Logger LOG = Logger.getLogger(CliSessions.class.getName());

  private final Map<String, CliSession> sessions = new ConcurrentHashMap<>();
  /** When each agent's CLI was last asked for (System.nanoTime), for stopping the least recently used first. */
  private final Map<String, Long> lastUse = new ConcurrentHashMap<>();
  /** One lock per agent: a CLI is started, replaced or stopped under its agent's lock, never two at once. */
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final int maxWarm;

  /** CLIs without a limit on how many run. */
  public CliSessions() {
    this(0);
  }

  /**
   * @param maxWarm the most CLIs kept at once (0: no limit); past it the least recently used idle ones are
   *     stopped
   */
  public CliSessions(int maxWarm) {
    this.maxWarm = maxWarm;
  }

  /**
   * The agent's CLI for this turn, reserved for it (the idle reaper leaves it alone until the turn runs): the warm
   * one if it fits, is alive and idle, else a new one from {@code spawn} (which gets this object's {@link #forget}
   * to call when the CLI ends).
   */
  public CliSession acquire(TurnRequest request, Function<TurnRequest, CliSession> spawn) {
    CliSession session;
    synchronized (lock(request.agentId())) {
      session = acquireLocked(request, spawn);
    }
    stopOverLimit(request.agentId());
    return session;
  }

  /**
   * Starts a turn on the agent's CLI ({@link #acquire}); the CLI is busy before the agent's lock is let go, so
   * that making room for another agent's CLI never stops it.
   */
  public RunningTurn startTurn(TurnRequest request, Function<TurnRequest, CliSession> spawn, TurnListener listener) {
    RunningTurn turn;
    synchronized (lock(request.agentId())) {
      turn = acquireLocked(request, spawn).runTurn(request.turnId(), request.text(), listener);
    }
    stopOverLimit(request.agentId());
    return turn;
  }

  private CliSession acquireLocked(TurnRequest request, Function<TurnRequest, CliSession> spawn) {
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
    lastUse.put(request.agentId(), System.nanoTime());
    return session;
  }

  /**
   * Makes {@code session} the agent's CLI (one taken up in the middle of a turn, {@link CliSession#resume}), stopping
   * any other the agent had.
   */
  public void adopt(CliSession session) {
    synchronized (lock(session.agentId())) {
      CliSession before = sessions.put(session.agentId(), session);
      if (before != null && before != session) {
        before.kill();
      }
      lastUse.put(session.agentId(), System.nanoTime());
    }
    stopOverLimit(session.agentId());
  }

  /**
   * Starts the agent's CLI ahead of its next message: the CLI loads itself and waits for that message on stdin. A
   * live CLI with the agent's settings (busy or not) is only marked as used. Returns whether a CLI was started.
   */
  public boolean prepare(TurnRequest request, Function<TurnRequest, CliSession> spawn) {
    synchronized (lock(request.agentId())) {
      CliSession session = sessions.get(request.agentId());
      if (session != null && session.alive() && (session.busy() || session.settings().equals(request.settings()))) {
        lastUse.put(request.agentId(), System.nanoTime());
        return false;
      }
      if (session != null) {
        sessions.remove(request.agentId(), session);
        session.kill();
      }
      session = spawn.apply(request);
      sessions.put(request.agentId(), session);
      lastUse.put(request.agentId(), System.nanoTime());
    }
    stopOverLimit(request.agentId());
    return true;
  }

  /**
   * Stops the least recently used idle CLIs while more than {@code maxWarm} run; never a busy one, nor the CLI of
   * {@code keep} (the agent that just asked for one). With every other CLI busy the limit is passed until one ends.
   */
  private void stopOverLimit(String keep) {
    if (maxWarm <= 0) {
      return;
    }
    synchronized (lastUse) {
      while (sessions.size() > maxWarm) {
        CliSession oldest = null;
        long oldestUse = 0;
        for (CliSession s : sessions.values()) {
          long used = lastUse.getOrDefault(s.agentId(), Long.MIN_VALUE);
          if (!s.agentId().equals(keep) && !s.busy() && (oldest == null || used < oldestUse)) {
            oldest = s;
            oldestUse = used;
          }
        }
        if (oldest == null) {
          return;
        }
        stopIfIdle(oldest);
      }
    }
  }

  /** Stops a CLI unless it took a turn or ended meanwhile (checked under its agent's lock, where turns start). */
  private void stopIfIdle(CliSession s) {
    synchronized (lock(s.agentId())) {
      if (s.busy() || !sessions.remove(s.agentId(), s)) {
        return;
      }
    }
    LOG.fine(() -> "stopping the least recently used CLI, of agent " + s.agentId() + ", over the limit of " + maxWarm
        + " (" + s.describe() + ")");
    s.kill();
  }

  private Object lock(String agentId) {
    return locks.computeIfAbsent(agentId, id -> new Object());
  }

  /** Forgets a CLI that ended (if it is still the agent's). */
  public void forget(CliSession ended) {
    sessions.remove(ended.agentId(), ended);
  }

  /**
   * Forgets the agent's CLI because where it ran is gone (its pod): what reads it ends now with {@code why}, and a
   * turn it runs fails with that reason.
   */
  public void lose(String agentId, String why) {
    lastUse.remove(agentId);
    CliSession session = sessions.remove(agentId);
    if (session != null) {
      session.lose(why);
    }
  }

  /** Stops the agent's CLI, if one runs. */
  public void release(String agentId) {
    lastUse.remove(agentId);
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

  /** Whether the agent has a CLI (warm or running a turn). */
  public boolean has(String agentId) {
    return sessions.containsKey(agentId);
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
