package dev.agentplatform.runtime.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.cli.CliCommand;
import dev.agentplatform.runtime.cli.CliConnection;
import dev.agentplatform.runtime.cli.CliSession;
import dev.agentplatform.testing.DroppingProxy;
import dev.agentplatform.testing.RunnerProcess;
import dev.agentplatform.testing.ScriptedModel;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The runner for real: its jar started as a JVM of its own on 127.0.0.1 (as the agent pod's command), the real
 * Claude Code CLI started by it against the scripted model, driven by the platform's {@link CliSession} through
 * {@link RunnerCli}, with a proxy between them whose connections the test cuts. One runner for the whole class.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class RunnerIT {

  private static final Duration TURN = Duration.ofSeconds(60);
  /** The CLI's uid when the test is root: one nothing else on the machine runs as, for a kill sweeps it. */
  private static final int CLI_UID = 64002;
  private static final Pattern LISTENING = Pattern.compile("runner listening on 127\\.0\\.0\\.1:(\\d+), CLI as (.*)");
  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of("Bash", "Write"));
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private static ScriptedModel model;
  private static RunnerProcess runnerProcess;
  private static Process runner;
  private static int runnerPort;
  private static String cliUser;
  private static DroppingProxy proxy;
  private static RunnerEndpoint endpoint;
  private static Path secretFile;
  private static String secret;
  private static String runnerMark;
  private static Path workspace;
  private static Path agentDir;
  private static boolean root;

  private static CliSession session;
  private static TeeCli connection;

  @BeforeAll
  static void startRunner() throws Exception {
    model = ScriptedModel.start(0);
    root = "root".equals(System.getProperty("user.name"));
    Path dir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath()
        .resolve("runner-" + System.nanoTime());
    workspace = Files.createDirectories(dir.resolve("workspace"));
    agentDir = Files.createDirectories(workspace.resolve("agent"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (root) {
      // The CLI runs as a uid of its own: its workspace is its own, as the pod's volume would be.
      Files.setAttribute(agentDir, "unix:uid", CLI_UID);
      Files.setAttribute(agentDir, "unix:gid", CLI_UID);
    }
    Path secretDir = Files.createDirectories(dir.resolve("secret"));
    Files.setPosixFilePermissions(secretDir, PosixFilePermissions.fromString("rwx------"));
    secret = random();
    secretFile = Files.writeString(secretDir.resolve("token"), secret + "\n");
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("r--------"));
    runnerMark = random();

    Map<String, String> env = new LinkedHashMap<>(Map.of("RUNNER_HOST", "127.0.0.1", "RUNNER_SECRET_FILE",
        secretFile.toString(), "RUNNER_WORKSPACE", workspace.toString(), "RUNNER_IT_MARK", runnerMark));
    if (root) {
      // Not auto (nobody): a kill sweeps the CLI's uid, and this machine may run other things as nobody.
      env.put("RUNNER_CLI_USER", CLI_UID + ":" + CLI_UID);
    }
    RunnerProcess started = RunnerProcess.start(env, List.of("--RUNNER_PORT=0"), dir.resolve("runner.log"));
    runnerProcess = started;
    runner = started.process();
    String line = started.listening();
    Matcher m = LISTENING.matcher(line);
    assertTrue(m.matches(), line);
    runnerPort = Integer.parseInt(m.group(1));
    cliUser = m.group(2);
    proxy = DroppingProxy.start(runnerPort);
    endpoint = new RunnerEndpoint("127.0.0.1", proxy.port(), secret);
  }

  @AfterAll
  static void stopRunner() throws Exception {
    if (session != null) {
      session.kill();
    }
    if (runnerProcess != null) {
      runnerProcess.stop();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (model != null) {
      model.close();
    }
  }

  @Test
  @Order(1)
  void theRunnerRefusesARequestWithoutThePodsSecret() throws Exception {
    HttpResponse<String> health = direct("GET", "/healthz", null);
    assertEquals(200, health.statusCode());
    assertEquals("{\"status\":\"UP\"}", health.body());
    String start = "{\"argv\":[\"cat\"],\"env\":{},\"cwd\":\"agent\"}";
    for (String auth : new String[] {null, "Bearer wrong", "Bearer " + secret + "x", secret}) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runnerPort + "/cli"))
          .POST(HttpRequest.BodyPublishers.ofString(start));
      if (auth != null) {
        b.header("Authorization", auth);
      }
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, r.statusCode(), r.body());
      assertTrue(r.body().startsWith("{\"error\":\"unauthorized\""), r.body());
    }
    if (root) {
      assertEquals("uid " + CLI_UID + " gid " + CLI_UID, cliUser, "as root the runner runs the CLI as its uid");
    }
  }

  @Test
  @Order(2)
  void aTurnStreamsTextAndAFollowUpRunsOnTheWarmCli() throws Exception {
    startSession();
    Turn first = turn("hello through the runner");
    assertEquals("Echo: hello through the runner", first.text());
    assertTrue(first.deltas() >= 2, "the text came in deltas, as it was streamed: " + first.events());
    String described = session.describe();
    assertTrue(described.startsWith("runner 127.0.0.1:" + proxy.port() + " instance "), described);

    Turn second = turn("#say a follow-up");
    assertEquals("a follow-up", second.text());
    assertEquals(described, session.describe(), "the same CLI took the follow-up");
    assertTrue(session.alive());
  }

  @Test
  @Order(3)
  void aStdoutStreamCutMidTurnResumesFromItsOffsetWithNoGapAndNoDuplicate() throws Exception {
    ensureSession();
    int followsBefore = follows().size();
    Events events = new Events();
    session.runTurn("#slow 12 150", events);
    RuntimeEvent e;
    do {
      e = events.take();
    } while (!(e instanceof RuntimeEvent.TextDelta));
    long cutAt = connection.cli.stdoutOffset();
    proxy.dropAll();
    Turn turn = events.finish(e);
    StringBuilder expected = new StringBuilder();
    for (int i = 1; i <= 12; i++) {
      expected.append("chunk ").append(i).append(". ");
    }
    assertEquals(expected.toString(), turn.text(), "every delta once, in order");
    List<String> follows = follows();
    assertTrue(follows.size() > followsBefore, "stdout was asked for again: " + follows);
    long resumedAt = Long.parseLong(follows.get(follows.size() - 1).replaceAll(".*offset=(\\d+) .*", "$1"));
    assertTrue(resumedAt >= cutAt && resumedAt > 0, "resumed from " + resumedAt + ", cut at " + cutAt);

    // Byte for byte, what the platform read is what the CLI printed.
    long printed = status().getOrDefault("stdoutBytes", -1L);
    byte[] runnerBytes = directStdout(printed);
    byte[] platformBytes;
    synchronized (connection.read) {
      platformBytes = connection.read.toByteArray();
    }
    assertArrayEquals(runnerBytes, platformBytes,
        "the platform read every byte the CLI printed, once (" + printed + " bytes)");
  }

  @Test
  @Order(4)
  void theCliCannotReadThePodsSecret() throws Exception {
    ensureSession();
    long pid = runner.pid();
    Turn turn = turn("#bash id -u; cat " + secretFile + "; env; cat /proc/" + pid + "/environ; cat /proc/" + pid
        + "/cmdline; ls /proc/" + pid + "/fd; echo done");
    String output = turn.toolOutput();
    assertTrue(output.contains("done"), output);
    assertFalse(output.contains(secret), "the CLI read the secret:\n" + output);
    assertFalse(output.contains(runnerMark), "the runner's own environment reached the CLI:\n" + output);
    assertTrue(output.contains("PLATFORM_SENT=yes"), "the environment the platform sent is the CLI's:\n" + output);
    if (root) {
      assertTrue(output.startsWith(Integer.toString(CLI_UID)), "the CLI runs as its uid:\n" + output);
      assertTrue(output.contains(secretFile + ": Permission denied"), output);
      assertTrue(output.contains("/environ: Permission denied"), output);
    }
  }

  @Test
  @Order(5)
  void anInterruptKillsTheCliWithEverythingItStarted() throws Exception {
    ensureSession();
    String marker = Long.toString(3000 + new SecureRandom().nextInt(1000));
    String daemonMarker = marker + "9";
    Events events = new Events();
    // Beside the tool's process, a daemon the subshell moves out of the CLI's tree (it goes to pid 1).
    RunningTurn running = session.runTurn("#bash (setsid tail -f /dev/null -s " + daemonMarker
        + " >/dev/null 2>&1 &); tail -f /dev/null -s " + marker, events);
    ProcessHandle tool = null;
    long deadline = System.nanoTime() + TURN.toNanos();
    while (tool == null) {
      if (System.nanoTime() > deadline || events.queue.stream().anyMatch(RuntimeEvent::isFinal)) {
        throw new AssertionError("the Bash tool did not start tail -s " + marker + "; events " + events.queue
            + "; under the runner: " + runner.descendants().map(p -> p.info().commandLine().orElse("?")).toList());
      }
      tool = runner.descendants().filter(p -> p.info().commandLine().orElse("").matches(".*tail -f /dev/null -s "
          + marker))
          .findFirst().orElse(null);
      Thread.onSpinWait();
    }
    assertTrue(isDescendant(tool, runner.toHandle()), "the tool's process runs under the runner");
    ProcessHandle daemon = null;
    while (daemon == null) {
      daemon = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").endsWith(
          "tail -f /dev/null -s " + daemonMarker)).findFirst().orElse(null);
      Thread.sleep(5); // interruptible: the test's timeout says the daemon never started
    }
    assertFalse(isDescendant(daemon, runner.toHandle()), "the daemon left the runner's tree");
    running.stop();
    RuntimeEvent last;
    do {
      last = events.take();
    } while (!last.isFinal());
    assertInstanceOf(RuntimeEvent.Stopped.class, last);
    tool.onExit().get(10, TimeUnit.SECONDS);
    assertFalse(tool.isAlive(), "the tool's process was killed with the CLI");
    assertEquals(0L, status().get("alive"), "the runner says the CLI has ended");
    assertFalse(session.alive());
    assertTrue(runner.descendants().findAny().isEmpty(), "nothing of the CLI is left under the runner");
    if (root) {
      // The kill is asked for asynchronously, and the runner sweeps the CLI's uid before it answers: wait for that.
      while (!liveProcessesOf(CLI_UID).isEmpty()) {
        Thread.sleep(5); // interruptible: the test's timeout says the daemon survived
      }
    }
  }

  /** The pids of the live processes (not zombies) whose real uid is {@code uid}. */
  private static List<Long> liveProcessesOf(int uid) throws IOException {
    List<Long> found = new ArrayList<>();
    try (var all = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path proc : all) {
        try {
          List<String> status = Files.readAllLines(proc.resolve("status"));
          boolean zombie = status.stream().anyMatch(l -> l.startsWith("State:") && l.matches("State:\\s+[ZX].*"));
          boolean his = status.stream().anyMatch(l -> l.startsWith("Uid:") && l.substring(4).trim().split("\\s+")[0]
              .equals(Integer.toString(uid)));
          if (his && !zombie) {
            found.add(Long.parseLong(proc.getFileName().toString()));
          }
        } catch (IOException e) {
          // it ended while we looked
        }
      }
    }
    return found;
  }

  @Test
  @Order(6)
  void aRunnerWhoseCliCouldReadTheSecretRefusesToStart() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(root, "only a root runner switches the CLI to another uid");
    Path readable = Files.writeString(secretFile.resolveSibling("readable"), random());
    Files.setPosixFilePermissions(readable, PosixFilePermissions.fromString("r--r--r--"));
    Process refused = new ProcessBuilder(RunnerProcess.javaCommand(), "-jar", System.getProperty("it.runner.jar"),
        "--RUNNER_PORT=0", "--RUNNER_HOST=127.0.0.1", "--RUNNER_SECRET_FILE=" + readable,
        "--RUNNER_WORKSPACE=" + workspace).redirectErrorStream(true).start();
    String output = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(refused.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, refused.exitValue(), output);
    assertTrue(output.contains("could read the secret file " + readable + ": it is readable by everyone"), output);
  }

  private static boolean isDescendant(ProcessHandle p, ProcessHandle ancestor) {
    for (ProcessHandle h = p; h != null; h = h.parent().orElse(null)) {
      if (h.pid() == ancestor.pid()) {
        return true;
      }
    }
    return false;
  }

  private static void ensureSession() throws IOException {
    if (session == null || !session.alive()) {
      startSession();
    }
  }

  private static void startSession() throws IOException {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    extra.put("ANTHROPIC_BASE_URL", model.baseUrl());
    extra.put("ANTHROPIC_API_KEY", "sk-test-runner");
    extra.put("PLATFORM_SENT", "yes");
    Map<String, String> env = CliCommand.environment(agentDir.toString(), workspace.toString(), extra);
    List<String> argv = CliCommand.arguments(System.getProperty("it.claude.cli.path"), SETTINGS, "default", null);
    RunnerCli cli = RunnerCli.start(HTTP, endpoint, argv, env, agentDir.toString(), Duration.ofSeconds(20));
    connection = new TeeCli(cli);
    session = CliSession.start("u1", "a1", SETTINGS, connection, 10_000_000, UnaryOperator.identity(), s -> {
    });
  }

  private static Turn turn(String text) throws InterruptedException {
    Events events = new Events();
    session.runTurn(text, events);
    return events.finish(null);
  }

  private static List<String> follows() {
    return proxy.requestLines().stream().filter(l -> l.startsWith("GET ") && l.contains("/stdout?")).toList();
  }

  /** The instance's status, numbers as longs and booleans as 1 or 0. */
  private static Map<String, Long> status() throws Exception {
    String body = direct("GET", "/cli/" + connection.cli.instance(), null).body();
    Map<String, Long> m = new LinkedHashMap<>();
    Matcher f = Pattern.compile("\"(\\w+)\":(true|false|\\d+)").matcher(body);
    while (f.find()) {
      String v = f.group(2);
      m.put(f.group(1), v.equals("true") ? 1L : v.equals("false") ? 0L : Long.parseLong(v));
    }
    return m;
  }

  /** The first {@code n} bytes of the CLI's stdout, asked of the runner directly. */
  private static byte[] directStdout(long n) throws Exception {
    HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runnerPort
        + "/cli/" + connection.cli.instance() + "/stdout?offset=0")).header("Authorization", "Bearer " + secret)
        .build(), HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      return in.readNBytes((int) n);
    }
  }

  private static HttpResponse<String> direct(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runnerPort + path))
        .header("Authorization", "Bearer " + secret)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String random() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** A turn's events, taken on the test thread. */
  private static class Events implements TurnListener {
    private final BlockingQueue<RuntimeEvent> queue = new LinkedBlockingQueue<>();

    @Override
    public void onEvent(RuntimeEvent event) {
      queue.add(event);
    }

    RuntimeEvent take() throws InterruptedException {
      RuntimeEvent e = queue.poll(TURN.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(e, "the turn went on within " + TURN);
      return e;
    }

    /** Takes events up to the final one, which must be Completed; {@code first} was taken already. */
    Turn finish(RuntimeEvent first) throws InterruptedException {
      List<RuntimeEvent> all = new ArrayList<>();
      if (first != null) {
        all.add(first);
      }
      RuntimeEvent e = first;
      while (e == null || !e.isFinal()) {
        e = take();
        all.add(e);
      }
      assertInstanceOf(RuntimeEvent.Completed.class, e, "the turn completed: " + all);
      return new Turn(all);
    }
  }

  /** What one turn brought. */
  private record Turn(List<RuntimeEvent> events) {
    String text() {
      StringBuilder b = new StringBuilder();
      events.stream().filter(e -> e instanceof RuntimeEvent.TextDelta).map(e -> ((RuntimeEvent.TextDelta) e).text())
          .forEach(b::append);
      return b.toString();
    }

    long deltas() {
      return events.stream().filter(e -> e instanceof RuntimeEvent.TextDelta).count();
    }

    String toolOutput() {
      return events.stream().filter(e -> e instanceof RuntimeEvent.ToolOutput)
          .map(e -> ((RuntimeEvent.ToolOutput) e).output()).findFirst().orElse("");
    }
  }

  /** The runner's CLI, with every stdout byte the platform reads kept for the comparison. */
  private static final class TeeCli implements CliConnection {
    final RunnerCli cli;
    final ByteArrayOutputStream read = new ByteArrayOutputStream();

    TeeCli(RunnerCli cli) {
      this.cli = cli;
    }

    @Override
    public OutputStream stdin() {
      return cli.stdin();
    }

    @Override
    public InputStream stdout() {
      return new FilterInputStream(cli.stdout()) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          if (n > 0) {
            synchronized (read) {
              read.write(b, off, n);
            }
          }
          return n;
        }
      };
    }

    @Override
    public InputStream stderr() {
      return cli.stderr();
    }

    @Override
    public boolean alive() {
      return cli.alive();
    }

    @Override
    public void kill() {
      cli.kill();
    }

    @Override
    public String awaitExit() throws InterruptedException {
      return cli.awaitExit();
    }

    @Override
    public String describe() {
      return cli.describe();
    }
  }
}
