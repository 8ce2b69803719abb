package dev.agentplatform.runtime.docker;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Frame;
import dev.agentplatform.runtime.cli.CliConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A CLI exec'd in a user's container with stdin, stdout and stderr attached over one hijacked connection: the
 * messages go down it, the stream-json comes back frame by frame as the CLI prints it.
 *
 * <p>Docker cannot signal an exec, so each CLI carries a random mark in its environment, which the processes it
 * starts inherit; ending it runs a fixed script in the container that stops and then kills every process with
 * the mark, and all their descendants.
 */
final class ExecCli implements CliConnection {

  private static final Logger LOG = Logger.getLogger(ExecCli.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();
  static final String MARK = "AGENT_PLATFORM_EXEC";

  /**
   * Kills the processes marked $1 (any mark when $1 is empty) and all their descendants, stopping each one first
   * so that it cannot fork while the tree is walked. A fixed script; its only argument is the mark (hex digits the
   * platform made). It reads parents from /proc, so it needs no pgrep in the image.
   */
  private static final String KILL_SCRIPT = """
      tree=" "
      add() { case "$tree" in *" $1 "*) return 1 ;; esac; tree="$tree$1 "; kill -STOP "$1" 2>/dev/null; }
      for d in /proc/[0-9]*; do
        if tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -q "^%s=$1"; then add "${d#/proc/}"; fi
      done
      [ "$tree" = " " ] && exit 0
      grew=1
      while [ -n "$grew" ]; do
        grew=
        for d in /proc/[0-9]*; do
          parent=$(sed -n 's/^PPid:[[:space:]]*//p' "$d/status" 2>/dev/null)
          case "$tree" in *" $parent "*) add "${d#/proc/}" && grew=1 ;; esac
        done
      done
      kill -KILL $tree 2>/dev/null
      exit 0
      """.formatted(MARK);

  private final DockerEngine engine;
  private final String containerId;
  private final String containerName;
  private final String user;
  private final String mark;
  private final String execId;
  private final BytePipe stdin = new BytePipe();
  private final BytePipe stdout = new BytePipe();
  private final BytePipe stderr = new BytePipe();
  private final CountDownLatch ended = new CountDownLatch(1);
  private final AtomicBoolean killed = new AtomicBoolean();
  private final CompletableFuture<Void> killDone = new CompletableFuture<>();
  private final Executor executor;
  private volatile Throwable streamError;
  private volatile ResultCallback.Adapter<Frame> stream;

  private ExecCli(DockerEngine engine, String containerId, String containerName, String user, String mark,
      String execId, Executor executor) {
    this.engine = engine;
    this.executor = executor;
    this.containerId = containerId;
    this.containerName = containerName;
    this.user = user;
    this.mark = mark;
    this.execId = execId;
  }

  /**
   * Creates the exec and attaches to it; the command is an argument list, run as {@code user} in {@code workdir}.
   * {@code executor} runs the kill script, so that whoever stops a CLI (a WebSocket thread, the timer) never waits
   * for the engine.
   */
  static ExecCli start(DockerEngine engine, String containerId, String containerName, String user, String workdir,
      Map<String, String> environment, List<String> command, Executor executor) {
    String mark = HexFormat.of().formatHex(randomBytes());
    List<String> env = new ArrayList<>();
    environment.forEach((k, v) -> env.add(k + "=" + v));
    env.add(MARK + "=" + mark);
    String execId = engine.calls().execCreateCmd(containerId).withUser(user).withWorkingDir(workdir)
        .withEnv(env).withAttachStdin(true).withAttachStdout(true).withAttachStderr(true)
        .withCmd(command.toArray(String[]::new)).exec().getId();
    ExecCli cli = new ExecCli(engine, containerId, containerName, user, mark, execId, executor);
    cli.stream = engine.streams().execStartCmd(execId).withStdIn(cli.stdin).exec(cli.new Frames());
    return cli;
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return b;
  }

  @Override
  public OutputStream stdin() {
    return new OutputStream() {
      @Override
      public void write(int b) {
        stdin.write(new byte[] {(byte) b});
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (ended.getCount() == 0) {
          throw new IOException("the CLI's exec has ended");
        }
        stdin.write(java.util.Arrays.copyOfRange(b, off, off + len));
      }

      @Override
      public void close() {
        stdin.end();
      }
    };
  }

  @Override
  public InputStream stdout() {
    return stdout;
  }

  @Override
  public InputStream stderr() {
    return stderr;
  }

  @Override
  public boolean alive() {
    return ended.getCount() > 0;
  }

  /**
   * Kills the marked processes in the container (also after the CLI itself ended: what it left running), then
   * drops the connection. Returns at once: the kill script runs on the executor ({@link #killDone} tells when it
   * is over).
   */
  @Override
  public void kill() {
    if (!killed.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::killNow);
    } catch (RejectedExecutionException e) {
      killNow(); // the pool is shutting down with the server: end the CLI here
    }
  }

  /** Completes when a kill asked for has run (at once if none was). */
  CompletableFuture<Void> killDone() {
    return killed.get() ? killDone : CompletableFuture.completedFuture(null);
  }

  private void killNow() {
    try {
      killMarked(engine, containerId, user, mark);
    } catch (RuntimeException e) {
      // The container is gone or stopped (its processes with it), or the daemon does not answer.
      LOG.log(Level.FINE, "could not run the kill script in " + containerName + ": " + e.getMessage(), e);
    } finally {
      closeStream();
      killDone.complete(null);
    }
  }

  /** Kills the CLI marked {@code mark} (every marked CLI when null) in a container, with all they started. */
  static void killMarked(DockerEngine engine, String containerId, String user, String mark) {
    engine.run(containerId, user, List.of("/bin/sh", "-c", KILL_SCRIPT, "agent-platform-kill",
        mark == null ? "" : mark + "$"), Duration.ofSeconds(15));
  }

  private void closeStream() {
    ResultCallback.Adapter<Frame> s = stream;
    if (s != null) {
      try {
        s.close();
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINEST, "closing an exec stream", e);
      }
    }
    finish();
  }

  private void finish() {
    stdout.end();
    stderr.end();
    stdin.end();
    ended.countDown();
  }

  @Override
  public String awaitExit() throws InterruptedException {
    ended.await();
    Long code = null;
    InspectContainerResponse.ContainerState state = null;
    try {
      code = engine.calls().inspectExecCmd(execId).exec().getExitCodeLong();
      state = engine.calls().inspectContainerCmd(containerId).exec().getState();
      // A CLI killed by a signal may be the first sign of its container going down: give the engine a moment
      // to say so, for a truer reason than "killed by signal 9".
      for (int i = 0; i < 10 && (code == null || code > 128) && Boolean.TRUE.equals(state.getRunning())
          && !killed.get(); i++) {
        Thread.sleep(100);
        state = engine.calls().inspectContainerCmd(containerId).exec().getState();
      }
    } catch (RuntimeException e) {
      return "the Docker Engine at " + engine.host() + " did not answer: " + e.getMessage();
    }
    if (state != null && !Boolean.TRUE.equals(state.getRunning())) {
      return "its container " + containerName + " stopped"
          + (Boolean.TRUE.equals(state.getOOMKilled()) ? ": out of memory (DOCKER_MEMORY)" : "");
    }
    if (code == null) {
      Throwable error = streamError;
      return "the exec stream ended" + (error == null ? "" : ": " + error.getMessage());
    }
    return CliConnection.exitDescription(code);
  }

  @Override
  public String describe() {
    return "exec " + execId.substring(0, Math.min(12, execId.length())) + " in container " + containerName;
  }

  /** Hands the exec's output frames to the stdout and stderr pipes. */
  private final class Frames extends ResultCallback.Adapter<Frame> {
    @Override
    public void onNext(Frame frame) {
      switch (frame.getStreamType()) {
        case STDERR -> stderr.write(frame.getPayload());
        case STDOUT, RAW -> stdout.write(frame.getPayload());
        default -> {
        }
      }
    }

    @Override
    public void onError(Throwable error) {
      streamError = error;
      finish();
      super.onError(error);
    }

    @Override
    public void onComplete() {
      finish();
      super.onComplete();
    }
  }
}
