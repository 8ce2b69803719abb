package dev.agentplatform.runtime.cli;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnListener;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One agent's kept-warm CLI, wherever it runs ({@link CliConnection}): it takes user messages on stdin, one turn
 * at a time, and its stdout is read line by line on a thread of its own and mapped to runtime events.
 *
 * <p>A turn ends with the CLI's {@code result} line, and the CLI stays for the next message. Stopping a turn, a
 * line that is not stream-json, or output over the limit kill the CLI with everything it started; the next turn
 * starts a new CLI that resumes the CLI session.
 */
public final class CliSession {

  private static final Logger LOG = Logger.getLogger(CliSession.class.getName());
  private static final int STDERR_LINES = 20;

  private final String ownerId;
  private final String agentId;
  private final AgentSettings settings;
  private final CliConnection connection;
  private final BufferedWriter stdin;
  private final StreamJsonMapper mapper = new StreamJsonMapper();
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private final long outputLimit;
  private final UnaryOperator<String> redact;
  private final Consumer<CliSession> onExit;
  private volatile Turn current;
  private volatile long idleSince = System.nanoTime();
  private final AtomicBoolean dead = new AtomicBoolean();
  /** Chosen for the next turn by {@link CliSessions#acquire}, which the idle reaper must then leave alone. */
  private boolean claimed;

  private CliSession(String ownerId, String agentId, AgentSettings settings, CliConnection connection, long outputLimit,
      UnaryOperator<String> redact, Consumer<CliSession> onExit) {
    this.ownerId = ownerId;
    this.agentId = agentId;
    this.settings = settings;
    this.connection = connection;
    this.stdin = new BufferedWriter(new OutputStreamWriter(connection.stdin(), StandardCharsets.UTF_8));
    this.outputLimit = outputLimit;
    this.redact = redact;
    this.onExit = onExit;
  }

  /**
   * Takes over a started CLI and starts its reader threads.
   *
   * @param redact blots secrets out of the CLI's error output before it becomes a turn's failure reason
   * @param onExit hears that the CLI ended (to forget it)
   */
  public static CliSession start(String ownerId, String agentId, AgentSettings settings, CliConnection connection,
      long outputLimit,
      UnaryOperator<String> redact, Consumer<CliSession> onExit) {
    CliSession p = new CliSession(ownerId, agentId, settings, connection, outputLimit, redact, onExit);
    p.startReaders();
    return p;
  }

  /** A CLI taken up in the middle of a turn ({@link #resume}): the session, and that turn. */
  public record Resumed(CliSession session, RunningTurn turn) {
  }

  /**
   * Takes over a CLI that is running a turn a previous server process started (a sandbox pod's runner kept it):
   * {@code connection}'s stdout begins where that turn's output begins, and {@code listener} hears the whole turn
   * from there, as it would have heard it from {@link #runTurn}; nothing is written to stdin.
   */
  public static Resumed resume(String ownerId, String agentId, AgentSettings settings, CliConnection connection,
      long outputLimit, UnaryOperator<String> redact, Consumer<CliSession> onExit, TurnListener listener) {
    CliSession p = new CliSession(ownerId, agentId, settings, connection, outputLimit, redact, onExit);
    Turn turn = p.new Turn(listener);
    p.current = turn;
    p.startReaders();
    return new Resumed(p, turn);
  }

  private void startReaders() {
    Thread out = new Thread(this::readStdout, "cli-stdout-" + agentId);
    Thread err = new Thread(this::readStderr, "cli-stderr-" + agentId);
    out.setDaemon(true);
    err.setDaemon(true);
    out.start();
    err.start();
  }

  public String ownerId() {
    return ownerId;
  }

  public String agentId() {
    return agentId;
  }

  /** The settings the CLI was started with (a change needs a new CLI). */
  public AgentSettings settings() {
    return settings;
  }

  public String describe() {
    return connection.describe();
  }

  public boolean alive() {
    return !dead.get() && connection.alive();
  }

  public boolean busy() {
    return current != null;
  }

  /** Reserves this CLI for the next {@link #runTurn}; false when it is ending, runs a turn or is already reserved. */
  synchronized boolean claim() {
    if (dead.get() || current != null || claimed) {
      return false;
    }
    claimed = true;
    return true;
  }

  /**
   * Marks the CLI ending when it has waited longer than {@code limitNanos} for a message and nobody reserved it for
   * the next turn; true then, and the caller kills it. One step, so the reaper never kills a CLI a turn just chose.
   */
  synchronized boolean retireIfIdle(long limitNanos, long now) {
    if (dead.get() || current != null || claimed || now - idleSince <= limitNanos) {
      return false;
    }
    dead.set(true);
    return true;
  }

  /** Nanoseconds (System.nanoTime) since which the CLI has been waiting for a message. */
  public long idleSince() {
    return idleSince;
  }

  /**
   * Hands the CLI one user message; the listener hears the turn's events.
   *
   * @throws IllegalStateException when a turn runs, or the CLI is ending (its last turn was stopped, or it exited)
   */
  public RunningTurn runTurn(String text, TurnListener listener) {
    return runTurn(null, text, listener);
  }

  /**
   * {@link #runTurn(String, TurnListener)} for the turn {@code turnId}, which the CLI's keeper may remember with
   * where its output begins ({@link CliConnection#markTurn}); null for no id.
   */
  public RunningTurn runTurn(String turnId, String text, TurnListener listener) {
    Turn turn = new Turn(listener);
    synchronized (this) {
      if (current != null) {
        throw new IllegalStateException("agent " + agentId + " already runs a turn");
      }
      if (dead.get()) {
        throw new IllegalStateException("the CLI of agent " + agentId + " is ending");
      }
      current = turn;
      claimed = false;
    }
    try {
      if (turnId != null) {
        connection.markTurn(turnId);
      }
      stdin.write(CliCommand.userMessageLine(text));
      stdin.write('\n');
      stdin.flush();
    } catch (IOException e) {
      // The CLI died before or while it took the message; the stdout reader reports how it ended.
      LOG.log(Level.FINE, "writing to the CLI of agent " + agentId + " failed", e);
      kill();
    }
    return turn;
  }

  /** Ends the CLI and all it started. */
  public void kill() {
    connection.kill();
  }

  /** Where the CLI runs is gone: stop reading it now; a running turn fails with {@code why}. */
  public void lose(String why) {
    doom();
    connection.lose(why);
  }

  private void readStdout() {
    try (Reader reader = new InputStreamReader(connection.stdout(), StandardCharsets.UTF_8)) {
      LineReader lines = new LineReader(reader, (int) Math.min(Integer.MAX_VALUE - 16, outputLimit + 1));
      String line;
      while ((line = lines.next()) != null) {
        Turn turn = current;
        if (turn == null) {
          continue; // nothing between turns is meaningful (a stray line after an interrupted turn)
        }
        turn.bytes += line.length() + 1;
        if (turn.bytes > outputLimit) {
          failAndKill(turn, "the turn's output passed the limit of " + outputLimit
              + " bytes (TURN_OUTPUT_LIMIT_BYTES)");
          continue;
        }
        List<RuntimeEvent> events;
        try {
          events = mapper.map(line);
        } catch (CliOutputException e) {
          failAndKill(turn, e.getMessage());
          continue;
        }
        for (RuntimeEvent e : events) {
          if (e.isFinal()) {
            endTurn(turn, e);
          } else {
            turn.deliver(e);
          }
        }
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "reading the CLI of agent " + agentId + " failed", e);
    } finally {
      exited();
    }
  }

  private void exited() {
    doom();
    String how;
    try {
      how = connection.awaitExit();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      how = "interrupted while waiting for it";
    }
    kill(); // whatever it left running
    Turn turn = current;
    if (turn != null) {
      if (turn.stopRequested) {
        endTurn(turn, new RuntimeEvent.Stopped());
      } else {
        String detail = stderrSummary();
        endTurn(turn, new RuntimeEvent.Failed("the Claude Code CLI exited unexpectedly (" + how + ")"
            + (detail.isEmpty() ? "" : ": " + detail)));
      }
    }
    onExit.accept(this);
  }

  private void failAndKill(Turn turn, String reason) {
    // Doomed before the turn's end is told: a next message must not be handed to a CLI about to be killed.
    doom();
    endTurn(turn, new RuntimeEvent.Failed(reason));
    kill();
  }

  /** Marks the CLI as ending: from now on it takes no turn, and {@link CliSessions} replaces it. */
  private void doom() {
    synchronized (this) {
      dead.set(true);
    }
  }

  private void endTurn(Turn turn, RuntimeEvent last) {
    synchronized (this) {
      if (current == turn) {
        current = null;
        idleSince = System.nanoTime();
      }
    }
    turn.finish(last);
  }

  private void readStderr() {
    // Read in pieces of at most 500 characters: a line without an end (agent code can write to the CLI's stderr)
    // must not grow without bound.
    try (Reader reader = new InputStreamReader(connection.stderr(), StandardCharsets.UTF_8)) {
      LineReader lines = new LineReader(reader, 500);
      String line;
      while ((line = lines.next()) != null) {
        synchronized (stderrTail) {
          stderrTail.addLast(line);
          if (stderrTail.size() > STDERR_LINES) {
            stderrTail.removeFirst();
          }
        }
      }
    } catch (IOException e) {
      LOG.log(Level.FINEST, "stderr of agent " + agentId + " closed", e);
    }
  }

  private String stderrSummary() {
    StringBuilder b = new StringBuilder();
    synchronized (stderrTail) {
      for (String line : stderrTail) {
        if (!line.isBlank()) {
          b.append(b.length() == 0 ? "" : " | ").append(line.strip());
        }
      }
    }
    String text = b.length() > 1000 ? b.substring(b.length() - 1000) : b.toString();
    return redact.apply(text);
  }

  /** A turn on this CLI: its listener, how much it printed, and whether it was asked to stop. */
  private final class Turn implements RunningTurn {
    private final TurnListener listener;
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean stopRequested;
    private long bytes;

    Turn(TurnListener listener) {
      this.listener = listener;
    }

    void deliver(RuntimeEvent e) {
      if (!finished.get()) {
        listener.onEvent(e);
      }
    }

    void finish(RuntimeEvent last) {
      if (finished.compareAndSet(false, true)) {
        listener.onEvent(last);
      }
    }

    /**
     * Stops this turn, and only this one: once it has ended (its result was read) a stop does nothing, so a late
     * interrupt or timer never kills the CLI while it runs the agent's next turn.
     */
    @Override
    public void stop() {
      synchronized (CliSession.this) {
        if (current != this || finished.get()) {
          return;
        }
        stopRequested = true;
        // While this turn is current no other can start, and once doomed none will on this CLI.
        dead.set(true);
      }
      kill();
    }
  }

  /** Reads lines of at most {@code max} characters; a longer line is cut there (the turn fails on its size). */
  private static final class LineReader {
    private final Reader in;
    private final int max;
    private final char[] buf = new char[8192];
    private int pos;
    private int len;

    LineReader(Reader in, int max) {
      this.in = in;
      this.max = max;
    }

    String next() throws IOException {
      StringBuilder line = new StringBuilder();
      while (true) {
        if (pos == len) {
          len = in.read(buf);
          pos = 0;
          if (len <= 0) {
            len = 0;
            return line.length() > 0 ? line.toString() : null;
          }
        }
        int start = pos;
        while (pos < len && buf[pos] != '\n') {
          pos++;
        }
        int room = max - line.length();
        line.append(buf, start, Math.min(pos - start, Math.max(0, room)));
        if (pos < len) {
          pos++;
          return line.toString();
        }
        if (line.length() >= max) {
          // Drop the rest of an over-long line but report the part that proves its size.
          return line.toString();
        }
      }
    }
  }
}
