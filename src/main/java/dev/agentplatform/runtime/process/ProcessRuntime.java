package dev.agentplatform.runtime.process;

import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.cli.CliCommand;
import dev.agentplatform.runtime.cli.CliSession;
import dev.agentplatform.runtime.cli.CliSessions;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Runs each agent's turns in a real Claude Code CLI process on this machine (or pod), in the agent's own
 * workspace directory, as a non-root user when the server itself runs as root.
 *
 * <p>The CLI process is kept warm between turns (a follow-up costs tens of milliseconds instead of a second
 * of start-up) and stopped after {@link ProcessSettings#idleTimeout()} without a message; the next turn
 * resumes the CLI session with {@code --resume}. docs/architecture.md has the measurements behind the choice.
 */
public final class ProcessRuntime implements AgentRuntime {

  private static final Logger LOG = Logger.getLogger(ProcessRuntime.class.getName());
  private static final long PROBE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final ProcessSettings settings;
  private final boolean switchUser;
  private final CliSessions processes;
  private final ScheduledFuture<?> reaper;
  private volatile Probe probe;

  public ProcessRuntime(ProcessSettings settings, ScheduledExecutorService scheduler) {
    this(settings, scheduler, 0);
  }

  /** @param maxWarm the most CLIs kept at once (CLI_WARM_LIMIT; 0: no limit), least recently used stopped first */
  public ProcessRuntime(ProcessSettings settings, ScheduledExecutorService scheduler, int maxWarm) {
    this.settings = settings;
    this.processes = new CliSessions(maxWarm);
    this.switchUser = settings.runAsUid() >= 0 && currentUid() == 0;
    prepareRoot();
    long period = Math.max(1, Math.min(30, settings.idleTimeout().toSeconds() / 2));
    this.reaper = scheduler.scheduleWithFixedDelay(this::stopIdle, period, period, TimeUnit.SECONDS);
  }

  @Override
  public String name() {
    return "process";
  }

  @Override
  public RuntimeStatus status() {
    Optional<Path> cli = resolveCli();
    if (cli.isEmpty()) {
      return RuntimeStatus.down("the Claude Code CLI was not found at '" + settings.cli() + "': set CLAUDE_CLI_PATH"
          + " to the claude executable (the build installs a pinned one: ./mvnw -DskipTests package)");
    }
    if (settings.credentialsHint() != null) {
      return RuntimeStatus.down(settings.credentialsHint());
    }
    Probe p = probe(cli.get());
    if (!p.ok) {
      return RuntimeStatus.down(p.detail);
    }
    return RuntimeStatus.ok("Claude Code " + p.detail + " at " + cli.get()
        + (switchUser ? ", run as uid " + settings.runAsUid() : ""));
  }

  @Override
  public RunningTurn start(TurnRequest request, TurnListener listener) {
    RuntimeStatus status = status();
    if (!status.available()) {
      throw PlatformException.unavailable(status.reason(), null);
    }
    return processes.startTurn(request, this::spawn, listener);
  }

  @Override
  public void prepare(TurnRequest request) {
    if (status().available()) {
      processes.prepare(request, this::spawn);
    }
  }

  private CliSession spawn(TurnRequest request) {
    Path cli = resolveCli().orElseThrow();
    Path workspace = prepareWorkspace(request.agentId());
    List<String> command = new ArrayList<>();
    if (switchUser) {
      command.addAll(List.of("setpriv", "--reuid=" + settings.runAsUid(), "--regid=" + settings.runAsGid(),
          "--clear-groups", "--no-new-privs", "--"));
    }
    command.addAll(CliCommand.arguments(cli.toString(), request.settings(), settings.permissionMode(),
        request.resumeSessionId()));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile());
    Map<String, String> env = builder.environment();
    env.clear();
    env.put("PATH", Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin"));
    env.putAll(CliCommand.environment(workspace.toString(), settings.workspaceRoot().toString(),
        settings.environment()));
    try {
      CliSession p = CliSession.start(request.ownerId(), request.agentId(), request.settings(),
          new LocalCli(builder.start()), settings.outputLimitBytes(), settings.secrets()::redact, processes::forget);
      LOG.fine(() -> "started the CLI for agent " + request.agentId() + " (" + p.describe() + ")");
      return p;
    } catch (IOException e) {
      throw PlatformException.unavailable("cannot start the Claude Code CLI at " + cli + ": " + e.getMessage(), e);
    }
  }

  /**
   * Creates the workspace root and lets the CLI's user traverse it and the platform's own directories above it
   * (execute only: nobody can list them). Directories the platform does not own are left alone; readiness
   * reports if they block the way.
   */
  private void prepareRoot() {
    Path root = settings.workspaceRoot();
    try {
      Files.createDirectories(root);
      if (switchUser) {
        List<Path> dirs = new ArrayList<>();
        for (Path p = root; p != null; p = p.getParent()) {
          Path dir = p;
          if (dir.equals(root) || settings.platformDirs().stream().anyMatch(dir::startsWith)) {
            dirs.add(dir);
          }
        }
        for (Path dir : dirs) {
          allowTraversal(dir);
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      LOG.log(Level.WARNING, "could not prepare the workspace root " + root, e);
    }
  }

  private static void allowTraversal(Path dir) throws IOException {
    if (!Files.isDirectory(dir) || !Integer.valueOf(0).equals(Files.getAttribute(dir, "unix:uid"))) {
      return;
    }
    var perms = java.util.EnumSet.copyOf(Files.getPosixFilePermissions(dir));
    if (perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
      Files.setPosixFilePermissions(dir, perms);
    }
  }

  /** The agent's workspace, created on first use and owned by the user the CLI runs as. */
  private Path prepareWorkspace(String agentId) {
    Path workspace = workspace(agentId);
    try {
      Files.createDirectories(workspace);
      if (switchUser) {
        chownIfNeeded(workspace);
        Files.setPosixFilePermissions(workspace, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path config = workspace.resolve(".claude");
        if (Files.isDirectory(config)) {
          chownIfNeeded(config);
        }
      }
      return workspace;
    } catch (IOException e) {
      throw PlatformException.unavailable("cannot prepare the workspace " + workspace + ": " + e.getMessage(), e);
    }
  }

  private void chownIfNeeded(Path dir) throws IOException {
    if (!Integer.valueOf(settings.runAsUid()).equals(Files.getAttribute(dir, "unix:uid"))) {
      Files.setAttribute(dir, "unix:uid", settings.runAsUid());
      Files.setAttribute(dir, "unix:gid", settings.runAsGid());
    }
  }

  Path workspace(String agentId) {
    Path workspace = settings.workspaceRoot().resolve(agentId).normalize();
    if (!workspace.getParent().equals(settings.workspaceRoot().normalize())) {
      throw PlatformException.badRequest("not an agent id: " + agentId);
    }
    return workspace;
  }

  @Override
  public void release(String agentId) {
    processes.release(agentId);
  }

  @Override
  public void deleteWorkspace(String ownerId, String agentId) {
    release(agentId);
    Path workspace = workspace(agentId);
    if (!Files.exists(workspace)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(workspace)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not delete the workspace " + workspace + " completely", e);
    }
  }

  @Override
  public int liveAgents() {
    return processes.size();
  }

  @Override
  public void close() {
    reaper.cancel(false);
    processes.killAll();
  }

  private void stopIdle() {
    processes.stopIdle(settings.idleTimeout());
  }

  Optional<Path> resolveCli() {
    String cli = settings.cli();
    if (cli.contains("/")) {
      Path p = Path.of(cli);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, cli);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code claude --version} as the user agents run as, once per CLI path (again after a failure, at most
   * every ten seconds): it proves the binary starts for that user, not just that a file is there.
   */
  private Probe probe(Path cli) {
    Probe p = probe;
    if (p != null && p.cli.equals(cli) && (p.ok || System.nanoTime() - p.at < PROBE_RETRY_NANOS)) {
      return p;
    }
    List<String> command = new ArrayList<>();
    if (switchUser) {
      command.addAll(List.of("setpriv", "--reuid=" + settings.runAsUid(), "--regid=" + settings.runAsGid(),
          "--clear-groups", "--"));
    }
    command.add(cli.toString());
    command.add("--version");
    Probe result;
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getOutputStream().close();
      boolean done = process.waitFor(20, TimeUnit.SECONDS);
      String out = new String(process.getInputStream().readNBytes(2000), StandardCharsets.UTF_8).strip();
      if (!done) {
        ProcessTree.kill(process.toHandle());
        result = new Probe(cli, false, "the Claude Code CLI at " + cli + " did not answer --version within 20 s");
      } else if (process.exitValue() != 0) {
        result = new Probe(cli, false, "the Claude Code CLI at " + cli + " does not run"
            + (switchUser ? " as uid " + settings.runAsUid() + " (every directory on its path must be readable"
                + " by that user; see CLI_RUN_AS_UID)" : "") + ": " + out);
      } else if (switchUser && !canReach(settings.workspaceRoot())) {
        result = new Probe(cli, false, "uid " + settings.runAsUid() + " (CLI_RUN_AS_UID) cannot reach the workspace"
            + " root " + settings.workspaceRoot() + ": every directory above it must be traversable by that user"
            + " (set WORKSPACE_ROOT elsewhere, or grant o+x)");
      } else {
        result = new Probe(cli, true, out.lines().findFirst().orElse(out));
      }
    } catch (IOException e) {
      result = new Probe(cli, false, "cannot run the Claude Code CLI at " + cli + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      result = new Probe(cli, false, "interrupted while checking the Claude Code CLI");
    }
    probe = result;
    return result;
  }

  /** Whether the CLI's user can enter and write a directory ({@code test -w -a -x}, run as that user). */
  private boolean canReach(Path dir) throws IOException, InterruptedException {
    Process test = new ProcessBuilder("setpriv", "--reuid=" + settings.runAsUid(), "--regid=" + settings.runAsGid(),
        "--clear-groups", "--", "test", "-x", dir.toString()).redirectErrorStream(true).start();
    test.getOutputStream().close();
    return test.waitFor(10, TimeUnit.SECONDS) && test.exitValue() == 0;
  }

  private static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | ClassCastException e) {
      return "root".equals(System.getProperty("user.name")) ? 0 : 1;
    }
  }

  /** The outcome of checking that the CLI runs. */
  private record Probe(Path cli, boolean ok, String detail, long at) {
    Probe(Path cli, boolean ok, String detail) {
      this(cli, ok, detail, System.nanoTime());
    }
  }
}
