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
      """.formatted(SECRET);

  @TempDir
  Path dir;

  private Path cli;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private ProcessRuntime runtime;

  @BeforeEach
  void writeFakeCli() throws Exception {
    cli = dir.resolve("fake-claude");
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
    runtime = new ProcessRuntime(new ProcessSettings(cliPath, dir.resolve("workspaces"), "default", -1, -1,
        Duration.ofMinutes(5), 100_000, Map.of("FAKE_MODE", mode, "ANTHROPIC_API_KEY", SECRET), new Secrets(List.of(SECRET)),
        credentialsHint, List.of()), scheduler);
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

  private static void eventually(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
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
    PlatformException e = assertThrows(PlatformException.class, () -> missing.start(request("a6"), x -> { }));
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    missing.close();

    ProcessRuntime noKey = runtime("ok", cli.toString(), "no model credentials: set ANTHROPIC_API_KEY");
    assertEquals("no model credentials: set ANTHROPIC_API_KEY", noKey.status().reason());
    assertFalse(noKey.status().available());
  }
}
