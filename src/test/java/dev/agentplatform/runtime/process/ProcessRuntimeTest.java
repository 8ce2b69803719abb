package dev.agentplatform.runtime.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.process.ProcessSettings.SandboxMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process runtime against a misbehaving stand-in for the CLI (a shell script): real processes, pipes and
 * signals, for the failures the real CLI cannot be made to show on demand.
 */
class ProcessRuntimeTest {

  private static final String SECRET = "sk-fake-secret-123456";
  private static final String FAKE_CLI = """
      #!/bin/bash
      if [ "$1" = "--version" ]; then echo "9.9.9 (Fake Code)"; exit 0; fi
      read -r line
      echo '{"type":"system","subtype":"init","session_id":"fake-session"}'
      case "$FAKE_MODE" in
        garbage) echo 'Segmentation fault (core dumped)'; sleep 30 ;;
        flood) printf '{"type":"x","pad":"'; head -c 300000 /dev/zero | tr '\\0' 'x'; echo '"}'; sleep 30 ;;
        crash) echo "boom: key %s rejected" >&2; exit 3 ;;
        child) sleep 300 & echo $! > child.pid; wait ;;
        ok) echo '{"type":"result","subtype":"success","is_error":false,"result":"fine","total_cost_usd":0.01,"usage":{"input_tokens":1,"output_tokens":2},"duration_ms":5,"num_turns":1,"session_id":"fake-session"}'; sleep 30 ;;
      esac
      """
      .formatted(SECRET);

  @TempDir
  Path dir;

  private Path cli;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private ProcessRuntime runtime;

  @BeforeEach
  void writeFakeCli() throws Exception {
    // In a directory of its own: a sandbox shows the CLI's directory, and must not show the workspaces with it.
    cli = Files.createDirectories(dir.resolve("bin")).resolve("fake-claude");
    Files.writeString(cli, FAKE_CLI);
    Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @AfterEach
  void stop() {
    if (runtime != null) {
      runtime.close();
    }
    scheduler.shutdownNow();
  }

  private ProcessRuntime runtime(String mode, String cliPath, String credentialsHint) {
    return runtime(mode, cliPath, credentialsHint, SandboxMode.NONE, "bwrap", "a test");
  }

  private ProcessRuntime runtime(String mode, String cliPath, String credentialsHint, SandboxMode sandbox,
      String bwrap, String unsandboxedAllowedBecause) {
    runtime = new ProcessRuntime(new ProcessSettings(cliPath, dir.resolve("workspaces"), "default", -1, -1,
        Duration.ofMinutes(5), 100_000, Map.of("FAKE_MODE", mode, "ANTHROPIC_API_KEY", SECRET), new Secrets(List.of(
            SECRET)),
        credentialsHint, List.of(), sandbox, bwrap, unsandboxedAllowedBecause), scheduler);
    return runtime;
  }

  private static TurnRequest request(String agent) {
    return new TurnRequest("user", agent, "turn_1", "hello", new AgentSettings("", "", List.of()), null);
  }

  /** Starts a turn and returns its events up to the final one. */
  private static List<RuntimeEvent> run(ProcessRuntime runtime, String agent) throws InterruptedException {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(request(agent), events::add);
    return until(events);
  }

  private static List<RuntimeEvent> until(BlockingQueue<RuntimeEvent> events) throws InterruptedException {
    List<RuntimeEvent> out = new java.util.ArrayList<>();
    while (true) {
      RuntimeEvent e = events.poll(20, TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("no final event; got " + out);
      }
      out.add(e);
      if (e.isFinal()) {
        return out;
      }
    }
  }

  private static void eventually(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what);
      }
      Thread.sleep(50);
    }
  }

  @Test
  void aCompletedTurnKeepsTheProcessWarm() throws Exception {
    List<RuntimeEvent> events = run(runtime("ok", cli.toString(), null), "a1");
    assertEquals(new RuntimeEvent.SessionStarted("fake-session"), events.get(0));
    RuntimeEvent.Completed done = assertInstanceOf(RuntimeEvent.Completed.class, events.get(events.size() - 1));
    assertEquals("fine", done.result());
    assertEquals(1, runtime.liveAgents(), "the process stays for the next message");
    assertTrue(Files.isDirectory(dir.resolve("workspaces/a1")), "the agent got its workspace");
  }

  @Test
  void garbageOnStdoutFailsTheTurnAndEndsTheProcess() throws Exception {
    List<RuntimeEvent> events = run(runtime("garbage", cli.toString(), null), "a2");
    RuntimeEvent.Failed failed = assertInstanceOf(RuntimeEvent.Failed.class, events.get(events.size() - 1));
    assertTrue(failed.reason().contains("not stream-json: Segmentation fault"), failed.reason());
    eventually(() -> runtime.liveAgents() == 0, "the garbled process was ended");
  }

  @Test
  void outputOverTheLimitFailsTheTurn() throws Exception {
    List<RuntimeEvent> events = run(runtime("flood", cli.toString(), null), "a3");
    RuntimeEvent.Failed failed = assertInstanceOf(RuntimeEvent.Failed.class, events.get(events.size() - 1));
    assertTrue(failed.reason().contains("TURN_OUTPUT_LIMIT_BYTES"), failed.reason());
    eventually(() -> runtime.liveAgents() == 0, "the flooding process was ended");
  }

  @Test
  void aCrashIsAFailedTurnWithItsExitCodeAndNoSecret() throws Exception {
    List<RuntimeEvent> events = run(runtime("crash", cli.toString(), null), "a4");
    RuntimeEvent.Failed failed = assertInstanceOf(RuntimeEvent.Failed.class, events.get(events.size() - 1));
    assertTrue(failed.reason().contains("exit code 3"), failed.reason());
    assertTrue(failed.reason().contains("boom: key [redacted] rejected"), failed.reason());
    assertFalse(failed.reason().contains(SECRET));
  }

  @Test
  void stoppingATurnEndsEveryProcessItStarted() throws Exception {
    ProcessRuntime r = runtime("child", cli.toString(), null);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    RunningTurn turn = r.start(request("a5"), events::add);
    Path pidFile = dir.resolve("workspaces/a5/child.pid");
    eventually(() -> Files.exists(pidFile) && pidFile.toFile().length() > 0, "the tool's child started");
    long child = Long.parseLong(Files.readString(pidFile).strip());
    assertTrue(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false));

    turn.stop();
    List<RuntimeEvent> out = until(events);
    assertInstanceOf(RuntimeEvent.Stopped.class, out.get(out.size() - 1));
    eventually(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true), "the child process was killed");
  }

  @Test
  void noCliOrNoCredentialsIsUnavailableWithWhatToSet() {
    ProcessRuntime missing = runtime("ok", dir.resolve("no-such-claude").toString(), null);
    assertFalse(missing.status().available());
    assertTrue(missing.status().reason().contains("CLAUDE_CLI_PATH"), missing.status().reason());
    PlatformException e = assertThrows(PlatformException.class, () -> missing.start(request("a6"), x -> {
    }));
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    missing.close();

    ProcessRuntime noKey = runtime("ok", cli.toString(), "no model credentials: set ANTHROPIC_API_KEY");
    assertEquals("no model credentials: set ANTHROPIC_API_KEY", noKey.status().reason());
    assertFalse(noKey.status().available());
  }

  @Test
  void inBubblewrapTheCliHasItsOwnProcessesAndAStopEndsThemAll() throws Exception {
    ProcessRuntime r = runtime("child", cli.toString(), null, SandboxMode.BUBBLEWRAP, "bwrap", null);
    assertTrue(r.status().available(), r.status().reason());
    assertTrue(r.status().reason().endsWith("each agent in a bubblewrap sandbox"), r.status().reason());
    assertTrue(r.sandbox().orElseThrow().startsWith("bubblewrap: SANDBOX=bubblewrap and bubblewrap "),
        r.sandbox().orElseThrow());
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    RunningTurn turn = r.start(request("s1"), events::add);
    Path workspace = dir.resolve("workspaces/s1");
    Path pidFile = workspace.resolve("child.pid");
    eventually(() -> Files.exists(pidFile) && pidFile.toFile().length() > 0, "the tool's child started");
    long inside = Long.parseLong(Files.readString(pidFile).strip());
    // The pid the tool saw is one of its own namespace: on the host, that process has another.
    eventually(() -> processesIn(workspace).stream().anyMatch(pid -> innermostPid(pid) == inside && pid != inside),
        "the child runs in a PID namespace of its own: " + processesIn(workspace));

    turn.stop();
    List<RuntimeEvent> out = until(events);
    assertInstanceOf(RuntimeEvent.Stopped.class, out.get(out.size() - 1));
    eventually(() -> processesIn(workspace).isEmpty(), "no process is left in the workspace");
  }

  @Test
  void whereBubblewrapCannotRunAutoGoesWithoutOnlyWhenThatIsAllowed() throws Exception {
    // What a pod whose seccomp profile forbids user namespaces answers.
    Path bwrap = dir.resolve("bin/failing-bwrap");
    Files.writeString(bwrap, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n");
    Files.setPosixFilePermissions(bwrap, PosixFilePermissions.fromString("rwxr-xr-x"));

    ProcessRuntime refused = runtime("ok", cli.toString(), null, SandboxMode.AUTO, bwrap.toString(), null);
    String reason = refused.status().reason();
    assertFalse(refused.status().available(), reason);
    assertTrue(reason.contains("SANDBOX=auto and bubblewrap cannot run here: bubblewrap failed (exit code 1):"
        + " bwrap: No permissions to create new namespace"), reason);
    assertTrue(reason.contains("set ALLOW_UNSANDBOXED_USERS=true"), reason);
    PlatformException e = assertThrows(PlatformException.class, () -> refused.start(request("u1"), x -> {
    }));
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertEquals(reason, e.getMessage());
    assertTrue(refused.sandbox().orElseThrow().startsWith("none: SANDBOX=auto and bubblewrap cannot run here"));
    refused.close();

    ProcessRuntime allowed = runtime("ok", cli.toString(), null, SandboxMode.AUTO, bwrap.toString(),
        "AUTH_MODE=default serves one user");
    assertTrue(allowed.status().available(), allowed.status().reason());
    assertTrue(allowed.status().reason().endsWith("without a sandbox"), allowed.status().reason());
    assertTrue(allowed.sandbox().orElseThrow().endsWith("allowed because AUTH_MODE=default serves one user"),
        allowed.sandbox().orElseThrow());
    assertInstanceOf(RuntimeEvent.Completed.class, run(allowed, "u2").get(1));
  }

  @Test
  void requiredBubblewrapThatIsMissingRefusesTurnsEvenWhereUnsandboxedIsAllowed() {
    ProcessRuntime r = runtime("ok", cli.toString(), null, SandboxMode.BUBBLEWRAP, dir.resolve("no-bwrap").toString(),
        "ALLOW_UNSANDBOXED_USERS=true");
    assertFalse(r.status().available());
    assertTrue(r.status().reason().startsWith("SANDBOX=bubblewrap, but bubblewrap cannot run here: bwrap was not"
        + " found at '" + dir.resolve("no-bwrap") + "' (Debian and Ubuntu: apt-get install bubblewrap)"),
        r.status().reason());
    assertEquals(ErrorCode.UNAVAILABLE,
        assertThrows(PlatformException.class, () -> r.start(request("r1"), x -> {
        })).code());
  }

  @Test
  void sandboxNoneServesSeveralUsersOnlyWhenAllowed() {
    ProcessRuntime r = runtime("ok", cli.toString(), null, SandboxMode.NONE, "bwrap", null);
    assertFalse(r.status().available());
    assertTrue(r.status().reason().startsWith("agents of the process runtime would run without a sandbox"
        + " (SANDBOX=none)"), r.status().reason());
  }

  /** The host pids of the processes whose working directory is in {@code workspace}. */
  private static List<Long> processesIn(Path workspace) {
    List<Long> pids = new java.util.ArrayList<>();
    ProcessHandle.allProcesses().forEach(h -> {
      try {
        if (Files.readSymbolicLink(Path.of("/proc", String.valueOf(h.pid()), "cwd")).startsWith(workspace)) {
          pids.add(h.pid());
        }
      } catch (java.io.IOException | UnsupportedOperationException e) {
        // gone
      }
    });
    return pids;
  }

  /** A process's pid in the innermost PID namespace it is in (the last field of NSpid), or -1. */
  private static long innermostPid(long hostPid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(hostPid), "status"))) {
        if (line.startsWith("NSpid:")) {
          String[] fields = line.substring(6).trim().split("\\s+");
          return Long.parseLong(fields[fields.length - 1]);
        }
      }
    } catch (java.io.IOException e) {
      // gone
    }
    return -1;
  }
}
