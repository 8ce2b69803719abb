package dev.agentplatform.runtime.cli;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A started Claude Code CLI as a {@link CliSession} drives it, wherever it runs: a child process of the server, or
 * a process exec'd in a container.
 */
public interface CliConnection {

  /** The CLI's standard input (one stream-json user message a line). */
  OutputStream stdin();

  /**
   * Names the next message written to stdin after the turn it starts, where the CLI's keeper can remember it (the
   * runner in a sandbox pod does), so that a server that restarts finds where that turn's output begins. Does
   * nothing by default: a server's own processes and execs end with it.
   */
  default void markTurn(String turnId) {
  }

  /** The CLI's standard output (stream-json, one object a line); ends when the CLI ends. */
  InputStream stdout();

  /** The CLI's standard error (kept for the reason of an unexpected exit). */
  InputStream stderr();

  /** Whether the CLI still runs. */
  boolean alive();

  /** Ends the CLI together with every process it started (its tools' shells, builds, servers). */
  void kill();

  /**
   * Where the CLI runs is gone (its pod was deleted or its node lost): its output ends now, and {@link #awaitExit}
   * says {@code why}. By default the CLI is killed, which ends its output.
   */
  default void lose(String why) {
    kill();
  }

  /** Waits until the CLI has ended and says how ("exit code 3", "killed by signal 9", "the container stopped"). */
  String awaitExit() throws InterruptedException;

  /** Where the CLI runs, for logs ("pid 1234", "exec 3f2a… in container agent-platform-…"). */
  String describe();

  /** How an exit code reads: above 128 it is a signal. */
  static String exitDescription(long code) {
    return code > 128 ? "killed by signal " + (code - 128) : "exit code " + code;
  }
}
