package dev.agentplatform.runner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One started CLI: its process, its stdout and stderr kept in {@link OutputLog}s by a pump thread each, and its
 * stdin, written one request at a time.
 */
final class CliInstance {

  private final String id;
  private final Process process;
  private final OutputLog stdout;
  private final OutputLog stderr;
  private final OutputStream stdin;
  /** Whom the CLI runs as, when it is another uid than the runner's (null: the runner's own). */
  private final CliUser user;
  /** Named stdin writes and the stdout offset at which each was written, the latest {@link #MARKS} of them. */
  private final Map<String, Long> marks = new LinkedHashMap<>();
  /** How many marks an instance keeps: a platform that restarts looks for its agent's last turn only. */
  static final int MARKS = 16;

  private CliInstance(String id, Process process, CliUser user, int stdoutBytes, int stderrBytes) {
    this.id = id;
    this.user = user;
    this.process = process;
    this.stdout = new OutputLog(stdoutBytes);
    this.stderr = new OutputLog(stderrBytes);
    this.stdin = process.getOutputStream();
  }

  /**
   * Starts the process {@code builder} describes and the threads that keep its output.
   *
   * @param user whom {@code builder} runs the CLI as (through {@link CliUser#command}), or null for the runner's own
   *     uid
   */
  static CliInstance start(String id, ProcessBuilder builder, CliUser user, int stdoutBytes, int stderrBytes)
      throws IOException {
    CliInstance cli = new CliInstance(id, builder.start(), user, stdoutBytes, stderrBytes);
    pump(cli.process.getInputStream(), cli.stdout, "runner-stdout-" + id);
    pump(cli.process.getErrorStream(), cli.stderr, "runner-stderr-" + id);
    return cli;
  }

  private static void pump(InputStream in, OutputLog log, String name) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (in) {
        int n;
        while ((n = in.read(buf)) > 0) {
          log.append(buf, 0, n);
        }
      } catch (IOException e) {
        // the pipe broke: the CLI is gone, and its output ends here
      } finally {
        log.close();
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }

  String id() {
    return id;
  }

  OutputLog stdout() {
    return stdout;
  }

  OutputLog stderr() {
    return stderr;
  }

  boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** How the CLI ended ("exit code 0", "killed by signal 9"), or null while it runs. */
  String exit() {
    if (process.isAlive()) {
      return null;
    }
    int code = process.exitValue();
    return code > 128 ? "killed by signal " + (code - 128) : "exit code " + code;
  }

  /** Waits up to {@code millis} for the CLI to end. */
  void await(long millis) throws InterruptedException {
    process.waitFor(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Writes bytes to the CLI's stdin and flushes them; one writer at a time, so two requests never interleave.
   *
   * @param mark a name for this write (a turn's id), kept once the write succeeded with the stdout offset reached
   *     before it: what the CLI prints after that offset answers this write, so a platform that restarts finds where
   *     its turn began; null for none
   */
  void write(byte[] bytes, String mark) throws IOException {
    synchronized (stdin) {
      // Taken before the write: the CLI may answer before the write returns.
      long offset = stdout.end();
      stdin.write(bytes);
      stdin.flush();
      if (mark != null) {
        synchronized (marks) {
          marks.remove(mark);
          marks.put(mark, offset);
          while (marks.size() > MARKS) {
            marks.remove(marks.keySet().iterator().next());
          }
        }
      }
    }
  }

  /** The marks of the latest named writes, oldest first: name → the stdout offset the write's answer begins at. */
  Map<String, Long> marks() {
    synchronized (marks) {
      return new LinkedHashMap<>(marks);
    }
  }

  /**
   * Kills the CLI and every process it started at once (SIGKILL), snapshotting the tree first; when the CLI runs as
   * another uid, then every process of that uid too, until none is left (what left the tree by a double fork or
   * {@code setsid} is found by its uid).
   *
   * @return false when processes of the CLI's uid were still running after the last round
   */
  boolean kill() {
    ProcessHandle root = process.toHandle();
    List<ProcessHandle> all = new ArrayList<>();
    all.add(root);
    root.descendants().forEach(all::add);
    all.forEach(ProcessHandle::destroyForcibly);
    // A child may have forked between the snapshot and the kill: sweep what is still attached.
    for (ProcessHandle h : all) {
      h.descendants().forEach(ProcessHandle::destroyForcibly);
    }
    return user == null || user.killAll();
  }
}
