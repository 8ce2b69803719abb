package dev.agentplatform.runtime.docker;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.cli.CliCommand;
import dev.agentplatform.runtime.cli.CliSession;
import dev.agentplatform.runtime.cli.CliSessions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs agents' turns in per-user containers on a Docker Engine: each user has one container (and one volume, with
 * a workspace directory per agent), and each agent a kept-warm CLI exec'd in it as the image's non-root user.
 *
 * <p>A turn crosses into the container as a stream-json line on the exec's stdin; the CLI's output comes back
 * frame by frame on the same connection (docs/architecture.md draws it).
 */
public final class DockerRuntime implements AgentRuntime {

  private static final Logger LOG = Logger.getLogger(DockerRuntime.class.getName());
  private static final long STATUS_TTL_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final DockerSettings settings;
  private final DockerEngine engine;
  private final CliSessions clis;
  private final UserContainers containers;
  private final ScheduledFuture<?> reaper;
  private final ExecutorService pool;
  private final AtomicBoolean reaping = new AtomicBoolean();
  private final AtomicBoolean adopted = new AtomicBoolean();
  private final AtomicBoolean refreshing = new AtomicBoolean();
  /** The execs of CLIs that have not ended yet, with their agents, so that one can wait for their kill scripts. */
  private final Map<ExecCli, String> execs = new ConcurrentHashMap<>();
  private volatile Check check;

  public DockerRuntime(DockerSettings settings, DockerEngine engine, ScheduledExecutorService scheduler,
      ExecutorService pool) {
    this(settings, engine, scheduler, pool, 0);
  }

  /** @param maxWarm the most CLIs kept at once (CLI_WARM_LIMIT; 0: no limit), least recently used stopped first */
  public DockerRuntime(DockerSettings settings, DockerEngine engine, ScheduledExecutorService scheduler,
      ExecutorService pool, int maxWarm) {
    this.clis = new CliSessions(maxWarm);
    this.settings = settings;
    this.engine = engine;
    this.pool = pool;
    this.containers = new UserContainers(engine, settings, clis::countOf);
    long shortest = Math.min(settings.cliIdle().toSeconds(), settings.idleStop().toSeconds());
    long period = Math.max(1, Math.min(30, shortest / 2));
    this.reaper = scheduler.scheduleWithFixedDelay(this::scheduleReap, period, period, TimeUnit.SECONDS);
    status();
  }

  @Override
  public String name() {
    return "docker";
  }

  @Override
  public RuntimeStatus status() {
    Check c = check;
    if (c == null) {
      return check(false).status; // the first answer, asked at start-up
    }
    if (System.nanoTime() - c.at >= STATUS_TTL_NANOS && refreshing.compareAndSet(false, true)) {
      // Whoever asks (a WebSocket thread sending a message, the readiness probe) gets the last answer at once; a
      // stale one is asked again on the pool, and the next caller gets that.
      offThread(() -> {
        try {
          check(true);
        } finally {
          refreshing.set(false);
        }
      });
    }
    return c.status;
  }

  /** Asks the daemon (at most every two seconds, unless {@code fresh}) whether it answers and has the image. */
  private Check check(boolean fresh) {
    Check c = check;
    if (!fresh && c != null && System.nanoTime() - c.at < STATUS_TTL_NANOS) {
      return c;
    }
    String version;
    try {
      version = engine.version();
    } catch (RuntimeException e) {
      return remember(new Check(RuntimeStatus.down("the Docker Engine at " + settings.host()
          + " does not answer (DOCKER_HOST): " + DockerEngine.rootMessage(e)), null));
    }
    String imageId;
    try {
      imageId = engine.calls().inspectImageCmd(settings.image()).exec().getId();
    } catch (NotFoundException e) {
      return remember(new Check(RuntimeStatus.down(containers.imageMissing().getMessage()), null));
    } catch (RuntimeException e) {
      return remember(new Check(RuntimeStatus.down("the Docker Engine at " + settings.host()
          + " could not look up the image " + settings.image() + ": " + DockerEngine.rootMessage(e)), null));
    }
    if (!adopted.get()) {
      try {
        containers.adopt(imageId);
        adopted.set(true);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not look for containers left by an earlier server", e);
      }
    }
    if (settings.credentialsHint() != null) {
      return remember(new Check(RuntimeStatus.down(settings.credentialsHint()), imageId));
    }
    return remember(new Check(RuntimeStatus.ok("Docker Engine " + version + " at " + settings.host() + ", image "
        + settings.image() + " (" + shortId(imageId) + "), one container per user as " + settings.user()
        + ", network " + settings.network()), imageId));
  }

  /** Makes the next status ask the engine again (something failed that the last answer did not foresee). */
  private void expireCheck() {
    Check c = check;
    if (c != null) {
      check = new Check(c.status, c.imageId, c.at - STATUS_TTL_NANOS);
    }
  }

  private Check remember(Check c) {
    check = c;
    return c;
  }

  @Override
  public RunningTurn start(TurnRequest request, TurnListener listener) {
    Check c = check(false);
    if (!c.status.available()) {
      throw PlatformException.unavailable(c.status.reason(), null);
    }
    // A warm CLI is used as it is (its exec is alive, so its container runs); only a new one needs the container.
    return clis.startTurn(request, r -> spawn(r, container(r.ownerId(), c.imageId)), listener);
  }

  @Override
  public void prepare(TurnRequest request) {
    Check c = check(false);
    if (c.status.available()) {
      clis.prepare(request, r -> spawn(r, container(r.ownerId(), c.imageId)));
    }
  }

  private UserContainers.Running container(String ownerId, String imageId) {
    try {
      return containers.ensure(ownerId, imageId);
    } catch (PlatformException e) {
      throw e;
    } catch (RuntimeException e) {
      expireCheck();
      throw PlatformException.unavailable("could not start the container of user " + ownerId
          + " on the Docker Engine at " + settings.host() + ": " + DockerEngine.rootMessage(e), e);
    }
  }

  private CliSession spawn(TurnRequest request, UserContainers.Running container) {
    String workspace = workspace(request.agentId());
    try {
      DockerEngine.ExecResult mkdir = engine.run(container.id(), settings.user(),
          List.of("mkdir", "-p", "-m", "700", workspace), Duration.ofSeconds(30));
      if (mkdir.exitCode() != 0) {
        throw PlatformException.unavailable("cannot create the workspace " + workspace + " in the container "
            + container.name() + ": " + mkdir.output(), null);
      }
      ExecCli exec = ExecCli.start(engine, container.id(), container.name(), settings.user(), workspace,
          CliCommand.environment(workspace, settings.workspaceRoot(), settings.environment()),
          CliCommand.arguments(settings.cli(), request.settings(), settings.permissionMode(),
              request.resumeSessionId()),
          this::offThread);
      execs.put(exec, request.agentId());
      CliSession session = CliSession.start(request.ownerId(), request.agentId(), request.settings(), exec,
          settings.outputLimitBytes(), settings.secrets()::redact, ended -> {
            clis.forget(ended);
            exec.killDone().whenComplete((v, e) -> execs.remove(exec));
          });
      LOG.fine(() -> "started the CLI of agent " + request.agentId() + " (" + session.describe() + ")");
      return session;
    } catch (PlatformException e) {
      throw e;
    } catch (RuntimeException e) {
      expireCheck();
      throw PlatformException.unavailable("could not start the Claude Code CLI in the container " + container.name()
          + ": " + DockerEngine.rootMessage(e), e);
    }
  }

  /** The agent's workspace in the container: a directory of the user's volume. */
  String workspace(String agentId) {
    if (!agentId.matches("[A-Za-z0-9_-]{1,64}")) {
      throw PlatformException.badRequest("not an agent id: " + agentId);
    }
    return settings.workspaceRoot() + "/" + agentId;
  }

  @Override
  public void release(String agentId) {
    clis.release(agentId);
  }

  @Override
  public void deleteWorkspace(String ownerId, String agentId) {
    release(agentId);
    awaitKills(agentId); // nothing of the agent's may still write into the directory being removed
    String workspace = workspace(agentId);
    try {
      if (!containers.hasVolume(ownerId)) {
        return;
      }
      Check c = check(false);
      if (c.imageId == null) {
        throw new IllegalStateException(c.status.reason());
      }
      UserContainers.Running container = containers.ensure(ownerId, c.imageId);
      DockerEngine.ExecResult rm = engine.run(container.id(), settings.user(), List.of("rm", "-rf", "--", workspace),
          Duration.ofSeconds(60));
      if (rm.exitCode() != 0) {
        LOG.warning("could not delete the workspace " + workspace + " of user " + ownerId + ": " + rm.output());
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "could not delete the workspace " + workspace + " of user " + ownerId
          + " (it stays in the volume " + containers.volumeOf(ownerId) + ")", e);
    }
  }

  @Override
  public int liveAgents() {
    return clis.size();
  }

  /**
   * Ends every CLI, all at once (each takes an exec in its container, run on the pool), waits up to 20 s for them,
   * and leaves the users' containers for the next server to adopt.
   */
  @Override
  public void close() {
    reaper.cancel(false);
    clis.takeAll().forEach(CliSession::kill);
    awaitKills(null);
    engine.close();
  }

  /** Waits (up to 20 s) for the kill scripts of the agent's CLIs, or of every CLI when {@code agentId} is null. */
  private void awaitKills(String agentId) {
    CompletableFuture<?>[] kills = execs.entrySet().stream()
        .filter(e -> agentId == null || agentId.equals(e.getValue()))
        .map(e -> e.getKey().killDone()).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(kills).get(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(Level.WARNING, "a CLI was not ended within 20 s" + (agentId == null ? " at shutdown" : ""), e);
    }
  }

  /** Runs a blocking engine call on the pool, or on a thread of its own once the pool is shut down (at shutdown). */
  private void offThread(Runnable task) {
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      Thread t = new Thread(task, "docker-call");
      t.setDaemon(true);
      t.start();
    }
  }

  private void scheduleReap() {
    if (reaping.compareAndSet(false, true)) {
      try {
        pool.execute(this::reap);
      } catch (RuntimeException e) {
        reaping.set(false);
      }
    }
  }

  private void reap() {
    try {
      clis.stopIdle(settings.cliIdle());
      containers.reap();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "idle check failed", e);
    } finally {
      reaping.set(false);
    }
  }

  private static String shortId(String imageId) {
    String id = imageId.startsWith("sha256:") ? imageId.substring(7) : imageId;
    return id.substring(0, Math.min(12, id.length()));
  }

  /** The outcome of asking the daemon, and when. */
  private record Check(RuntimeStatus status, String imageId, long at) {
    Check(RuntimeStatus status, String imageId) {
      this(status, imageId, System.nanoTime());
    }
  }
}
