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
import dev.agentplatform.runtime.process.ProcessSettings.SandboxMode;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Runs each agent's turns in a real Claude Code CLI process on this machine (or pod), in the agent's own
 * workspace directory, as a non-root user when the server itself runs as root, and (with bubblewrap) in a sandbox
 * of its own that shows it only its workspace, the system read-only and its own processes.
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
  /**
   * Starts every CLI and check, and lives as long as the runtime: bubblewrap's --die-with-parent kills the sandbox
   * when the thread that started it ends (measured: a sandbox started from a thread that then ended was killed at
   * once), so no pool thread that may be retired can be that parent. When the server dies, so do the sandboxes.
   */
  private final ExecutorService spawner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "agent-platform-cli-spawner");
    t.setDaemon(true);
    return t;
  });
  private volatile Probe probe;
  private volatile Sandboxing sandboxing;

  public ProcessRuntime(ProcessSettings settings, ScheduledExecutorService scheduler) {
    this(settings, scheduler, 0);
  }

  /** @param maxWarm the most CLIs kept at once (CLI_WARM_LIMIT; 0: no limit), least recently used stopped first */
  public ProcessRuntime(ProcessSettings settings, ScheduledExecutorService scheduler, int maxWarm) {
    this.settings = settings;
    this.processes = new CliSessions(maxWarm);
    this.switchUser = settings.runAsUid() >= 0 && currentUid() == 0;
    prepareRoot();
    this.sandboxing = decideSandbox();
    LOG.info("sandbox of the process runtime: " + sandboxDescription(sandboxing));
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
    Sandboxing s = sandboxing();
    if (s.refusal() != null) {
      return RuntimeStatus.down(s.refusal());
    }
    Probe p = probe(cli.get(), s);
    if (!p.ok) {
      return RuntimeStatus.down(p.detail);
    }
    return RuntimeStatus.ok("Claude Code " + p.detail + " at " + cli.get()
        + (switchUser ? ", run as uid " + settings.runAsUid() : "")
        + (s.active() ? ", each agent in a bubblewrap sandbox" : ", without a sandbox"));
  }

  @Override
  public Optional<String> sandbox() {
    return Optional.of(sandboxDescription(sandboxing()));
  }

  private static String sandboxDescription(Sandboxing s) {
    return (s.active() ? "bubblewrap: " : "none: ") + s.why()
        + (s.refusal() != null ? "; turns refused (see runtime)" : "");
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
    Sandboxing s = sandboxing();
    if (s.refusal() != null) {
      throw PlatformException.unavailable(s.refusal(), null);
    }
    List<String> command;
    try {
      command = commandLine(settings, switchUser, s.bwrap(), cli, workspace, request);
    } catch (IOException e) {
      throw PlatformException.unavailable("cannot find the Claude Code CLI at " + cli + ": " + e.getMessage(), e);
    }
    ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile());
    Map<String, String> env = builder.environment();
    env.clear();
    env.put("PATH", Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin"));
    env.putAll(CliCommand.environment(workspace.toString(), settings.workspaceRoot().toString(),
        settings.environment()));
    try {
      CliSession p = CliSession.start(request.ownerId(), request.agentId(), request.settings(),
          new LocalCli(startOnSpawner(builder)), settings.outputLimitBytes(), settings.secrets()::redact,
          processes::forget);
      LOG.fine(() -> "started the CLI for agent " + request.agentId() + " (" + p.describe() + ")");
      return p;
    } catch (IOException e) {
      throw PlatformException.unavailable("cannot start the Claude Code CLI at " + cli + ": " + e.getMessage(), e);
    }
  }

  /**
   * The whole command that starts an agent's CLI: the switch to the agents' user, then (with {@code bwrap}) the
   * sandbox, then the CLI's own argument list. The user's messages are never in it (they go to stdin), and what an
   * agent's owner sets (instructions, model, tools) comes only after the sandbox's closing {@code --}.
   */
  static List<String> commandLine(ProcessSettings settings, boolean switchUser, Path bwrap, Path cli, Path workspace,
      TurnRequest request) throws IOException {
    List<String> command = new ArrayList<>(userSwitch(settings, switchUser));
    String executable = cli.toString();
    if (bwrap != null) {
      // By its real path: a symlink such as node_modules/.bin/claude may point outside what the sandbox shows.
      Path real = cli.toRealPath();
      command.addAll(Bubblewrap.arguments(bwrap, workspace, Bubblewrap.installDir(real)));
      executable = real.toString();
    }
    command.addAll(CliCommand.arguments(executable, request.settings(), settings.permissionMode(),
        request.resumeSessionId()));
    return command;
  }

  private static List<String> userSwitch(ProcessSettings settings, boolean switchUser) {
    return switchUser
        ? List.of("setpriv", "--reuid=" + settings.runAsUid(), "--regid=" + settings.runAsGid(), "--clear-groups",
            "--no-new-privs", "--")
        : List.of();
  }

  /** Starts a process from the spawner thread (see {@link #spawner}), waiting for it even when interrupted. */
  private Process startOnSpawner(ProcessBuilder builder) throws IOException {
    Future<Process> started;
    try {
      started = spawner.submit(builder::start);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IOException("the process runtime is shutting down", e);
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return started.get();
        } catch (InterruptedException e) {
          interrupted = true; // a started process must not be lost: wait for it, then pass the interrupt on
        } catch (ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new IOException(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The current sandbox; a required bubblewrap that failed is tried again, at most every ten seconds. */
  private Sandboxing sandboxing() {
    Sandboxing s = sandboxing;
    if (s.refusal() != null && settings.sandbox() == SandboxMode.BUBBLEWRAP
        && System.nanoTime() - s.at() > PROBE_RETRY_NANOS) {
      s = decideSandbox();
      sandboxing = s;
    }
    return s;
  }

  /**
   * Chooses the sandbox by running it (bubblewrap starting {@code true} as the agents' user): with SANDBOX=auto once
   * for the server's life, so agents never move in and out of a sandbox; with SANDBOX=bubblewrap a failure refuses
   * turns; without a sandbox, several users are refused unless that was allowed.
   */
  private Sandboxing decideSandbox() {
    SandboxMode mode = settings.sandbox();
    if (mode == SandboxMode.NONE) {
      return unsandboxed("SANDBOX=none");
    }
    Optional<Path> bwrap = which(settings.bwrap());
    String failure;
    String version = "";
    if (bwrap.isEmpty()) {
      failure = "bwrap was not found at '" + settings.bwrap() + "' (Debian and Ubuntu: apt-get install bubblewrap)";
    } else {
      version = run(List.of(bwrap.get().toString(), "--version"), false, true, 20).output();
      failure = hiddenDirsFailure(null);
      if (failure == null) {
        List<String> check = new ArrayList<>(userSwitch(settings, switchUser));
        check.addAll(Bubblewrap.arguments(bwrap.get(), null, null));
        check.add("true");
        Run run = run(check, true, true, 20);
        if (!run.ok()) {
          failure = "bubblewrap " + run.describe()
              + " (bubblewrap 0.8 or newer is needed, and user namespaces: a seccomp profile or"
              + " kernel.unprivileged_userns_clone=0 may forbid them)";
        }
      }
    }
    if (failure == null) {
      return new Sandboxing(bwrap.get(), "SANDBOX=" + mode.key() + " and " + version + " at " + bwrap.get()
          + " runs here: each agent sees only its own workspace, the system read-only, a private /tmp and its own"
          + " processes", null, System.nanoTime());
    }
    if (mode == SandboxMode.BUBBLEWRAP) {
      return new Sandboxing(null, "SANDBOX=bubblewrap, but bubblewrap cannot run here",
          "SANDBOX=bubblewrap, but bubblewrap cannot run here: " + failure
              + "; fix that, or run agents elsewhere (AGENT_RUNTIME=docker)", System.nanoTime());
    }
    return unsandboxed("SANDBOX=auto and bubblewrap cannot run here: " + failure);
  }

  private Sandboxing unsandboxed(String why) {
    String allowed = settings.unsandboxedAllowedBecause();
    if (allowed != null) {
      return new Sandboxing(null, why + "; allowed because " + allowed, null, System.nanoTime());
    }
    return new Sandboxing(null, why, "agents of the process runtime would run without a sandbox (" + why + "), and"
        + " several users can sign in (AUTH_MODE is not default): each user's agents could read and change the"
        + " others' workspaces. Make bubblewrap run here (SANDBOX=auto or bubblewrap), run agents in containers"
        + " (AGENT_RUNTIME=docker), or set ALLOW_UNSANDBOXED_USERS=true to accept it", System.nanoTime());
  }

  /** Why the sandbox could not hide the platform's directories, or null when it can. */
  private String hiddenDirsFailure(Path cliDir) {
    List<Path> dirs = new ArrayList<>(settings.platformDirs());
    dirs.add(settings.workspaceRoot());
    for (Path dir : dirs) {
      Optional<String> why = Bubblewrap.exposes(dir, cliDir);
      if (why.isPresent()) {
        return "it cannot hide the platform's data: " + why.get() + " (set DATA_DIR or WORKSPACE_ROOT elsewhere)";
      }
    }
    return null;
  }

  /**
   * Runs a short command, at most {@code seconds} long, and collects what it printed: on the spawner thread when it
   * is sandboxed (see {@link #spawner}), with a clean environment when {@code cleanEnvironment}.
   */
  private Run run(List<String> command, boolean sandboxed, boolean cleanEnvironment, long seconds) {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (cleanEnvironment) {
      builder.environment().clear();
      builder.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
    }
    try {
      Process process = sandboxed ? startOnSpawner(builder) : builder.start();
      process.getOutputStream().close();
      boolean done = process.waitFor(seconds, TimeUnit.SECONDS);
      String out = new String(process.getInputStream().readNBytes(2000), StandardCharsets.UTF_8).strip();
      if (!done) {
        ProcessTree.kill(process.toHandle());
        return new Run(Run.Ended.TIMED_OUT, -1, out, "did not end within " + seconds + " s");
      }
      return new Run(Run.Ended.EXITED, process.exitValue(), out, null);
    } catch (IOException e) {
      return new Run(Run.Ended.NOT_STARTED, -1, "", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Run(Run.Ended.INTERRUPTED, -1, "", null);
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
    spawner.shutdownNow();
  }

  private void stopIdle() {
    processes.stopIdle(settings.idleTimeout());
  }

  Optional<Path> resolveCli() {
    return which(settings.cli());
  }

  /** An executable given as a path, or as a name looked up on the server's PATH. */
  private static Optional<Path> which(String name) {
    if (name.contains("/")) {
      Path p = Path.of(name);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code claude --version} as the user agents run as, in their sandbox, once per CLI path (again after a
   * failure, at most every ten seconds): it proves the binary starts for that user there, not just that a file is
   * there.
   */
  private Probe probe(Path cli, Sandboxing sandbox) {
    Probe p = probe;
    if (p != null && p.cli.equals(cli) && p.sandboxed == sandbox.active()
        && (p.ok || System.nanoTime() - p.at < PROBE_RETRY_NANOS)) {
      return p;
    }
    Probe result = runProbe(cli, sandbox);
    probe = result;
    return result;
  }

  private Probe runProbe(Path cli, Sandboxing sandbox) {
    List<String> command = new ArrayList<>(userSwitch(settings, switchUser));
    String executable = cli.toString();
    if (sandbox.active()) {
      try {
        Path real = cli.toRealPath();
        Path cliDir = Bubblewrap.installDir(real);
        String failure = hiddenDirsFailure(cliDir);
        if (failure != null) {
          return new Probe(cli, true, false, "the bubblewrap sandbox " + failure + " (or install the CLI elsewhere:"
              + " CLAUDE_CLI_PATH)");
        }
        command.addAll(Bubblewrap.arguments(sandbox.bwrap(), null, cliDir));
        executable = real.toString();
      } catch (IOException e) {
        return new Probe(cli, true, false, "cannot find the Claude Code CLI at " + cli + ": " + e.getMessage());
      }
    }
    command.add(executable);
    command.add("--version");
    boolean sandboxed = sandbox.active();
    Run run = run(command, true, false, 20);
    switch (run.ended()) {
      case NOT_STARTED:
        return new Probe(cli, sandboxed, false, "cannot run the Claude Code CLI at " + cli + ": " + run.error());
      case INTERRUPTED:
        return new Probe(cli, sandboxed, false, "interrupted while checking the Claude Code CLI");
      case TIMED_OUT:
        return new Probe(cli, sandboxed, false, "the Claude Code CLI at " + cli + " did not answer --version"
            + " within 20 s");
      default:
        break;
    }
    if (run.code() != 0) {
      return new Probe(cli, sandboxed, false, "the Claude Code CLI at " + cli + " does not run"
          + (switchUser ? " as uid " + settings.runAsUid() + " (every directory on its path must be readable"
              + " by that user; see CLI_RUN_AS_UID)" : "")
          + (sandboxed ? " in the bubblewrap sandbox" : "") + ": " + run.output());
    }
    if (switchUser && !canReach(settings.workspaceRoot())) {
      return new Probe(cli, sandboxed, false, "uid " + settings.runAsUid() + " (CLI_RUN_AS_UID) cannot reach"
          + " the workspace root " + settings.workspaceRoot() + ": every directory above it must be traversable by"
          + " that user (set WORKSPACE_ROOT elsewhere, or grant o+x)");
    }
    String out = run.output();
    return new Probe(cli, sandboxed, true, out.lines().findFirst().orElse(out));
  }

  /** Whether the CLI's user can enter a directory ({@code test -x}, run as that user). */
  private boolean canReach(Path dir) {
    List<String> test = new ArrayList<>(userSwitch(settings, true));
    test.addAll(List.of("test", "-x", dir.toString()));
    return run(test, false, false, 10).ok();
  }

  private static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException | ClassCastException e) {
      return "root".equals(System.getProperty("user.name")) ? 0 : 1;
    }
  }

  /** The outcome of checking that the CLI runs. */
  private record Probe(Path cli, boolean sandboxed, boolean ok, String detail, long at) {
    Probe(Path cli, boolean sandboxed, boolean ok, String detail) {
      this(cli, sandboxed, ok, detail, System.nanoTime());
    }
  }

  /**
   * Which sandbox the CLIs run in, and why.
   *
   * @param bwrap the bubblewrap executable, or null when CLIs run without a sandbox
   * @param refusal why no turn may run, or null when turns may run
   */
  private record Sandboxing(Path bwrap, String why, String refusal, long at) {
    boolean active() {
      return bwrap != null;
    }
  }

  /**
   * The outcome of a short command: how it ended, its exit code (-1 unless it exited), what it printed, and what
   * went wrong when it did not exit (not started, or too slow).
   */
  private record Run(Ended ended, int code, String output, String error) {

    /** How a short command ended. */
    enum Ended {
      EXITED, TIMED_OUT, NOT_STARTED, INTERRUPTED
    }

    boolean ok() {
      return ended == Ended.EXITED && code == 0;
    }

    /** As a failure reads in a reason: what went wrong, and what the command printed. */
    String describe() {
      return switch (ended) {
        case EXITED -> code == 0 ? output : "failed (exit code " + code + "): " + output;
        case TIMED_OUT -> error;
        case NOT_STARTED -> "cannot be started: " + error;
        case INTERRUPTED -> "was interrupted";
      };
    }
  }
}
