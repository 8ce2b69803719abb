package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.find;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The process runtime's sandbox, tried as an attacker would: an agent's own Bash and Write tools, run by the real
 * CLI, go for another agent's workspace (of its user and of another user), the store, the server's processes and
 * environment; each is refused, as the user sees it in the tool's result and as the host's file system shows.
 * Then, without a sandbox, a server that serves several users refuses to run agents at all.
 */
@TestMethodOrder(OrderAnnotation.class)
class SandboxIT {

  static Platform platform;
  static String alicesAgent;
  static String alicesOther;
  static String bobsAgent;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.get();
    // The embedded store: its SQLite file then lies in DATA_DIR, next to the workspaces, for an agent to go after.
    platform.use(Map.of("STORE", "embedded"));
  }

  @Test
  @Order(1)
  void readinessSaysWhichSandboxRunsAndWhy() throws Exception {
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(200, ready.statusCode(), ready.body());
    JsonObject data = readyData(ready);
    assertTrue(data.getString("sandbox").startsWith("bubblewrap: SANDBOX=auto and bubblewrap "), data.toString());
    assertTrue(data.getString("runtime").endsWith("each agent in a bubblewrap sandbox"), data.toString());
  }

  @Test
  @Order(2)
  void anAgentCannotReadOrWriteAnotherAgentsWorkspace() throws Exception {
    try (WsClient alice = platform.connect("alice"); WsClient bob = platform.connect("bob")) {
      alicesAgent = createAgent(alice, "prowler", "Bash", "Write");
      alicesOther = createAgent(alice, "neighbour", "Bash");
      bobsAgent = createAgent(bob, "stranger", "Bash");
      turn(alice, alicesOther, "#bash echo NEIGHBOUR-SECRET > b.txt");
      turn(bob, bobsAgent, "#bash echo STRANGER-SECRET > c.txt");
      Path b = platform.workspace(alicesOther);
      Path c = platform.workspace(bobsAgent);
      assertEquals("NEIGHBOUR-SECRET\n", Files.readString(b.resolve("b.txt")), "there is something to steal");
      assertEquals("STRANGER-SECRET\n", Files.readString(c.resolve("c.txt")));
      Map<String, String> bBefore = snapshot(b);
      Map<String, String> cBefore = snapshot(c);

      // Each of these, run without a sandbox (as the same uid, 65534), read the secret or wrote the file; the CLI's
      // own path checks stop some other forms (a redirection through a symlink), but not these.
      List<String> attempts = List.of(
          "cat ../" + alicesOther + "/b.txt",
          "cat " + b + "/b.txt",
          "cat " + c + "/c.txt",
          "cat ../" + bobsAgent + "/c.txt",
          "ln -s " + b + " b-link && cat b-link/b.txt",
          "ln -s ../" + bobsAgent + "/c.txt c-link && cat c-link",
          "echo pwned > ../" + alicesOther + "/pwned.txt",
          "echo pwned > " + b + "/b.txt",
          "echo pwned > " + c + "/pwned.txt",
          "cd b-link && echo pwned > pwned.txt",
          "sh -c 'echo pwned > b-link/pwned.txt'");
      for (String command : attempts) {
        JsonObject result = toolResult(alice, alicesAgent, "#bash " + command);
        String output = result.getString("output");
        // bash says "No such file or directory", dash "Directory nonexistent": the path is not there at all.
        assertTrue(output.contains("No such file or directory") || output.contains("nonexistent"),
            command + " → " + result);
        assertFalse(output.contains("SECRET"), command + " → " + result);
      }
      // The symlinks the agent made are in its own workspace, and lead nowhere from there.
      assertTrue(Files.isSymbolicLink(platform.workspace(alicesAgent).resolve("b-link")));

      // The Write tool, the way the issue saw it succeed.
      for (String path : List.of("../" + alicesOther + "/written.txt", c + "/written.txt")) {
        JsonObject write = toolResult(alice, alicesAgent, "#write " + path + " pwned");
        assertTrue(write.getBoolean("isError"), write.toString());
      }

      // Its view of the workspace root holds only its own workspace.
      String listing = toolResult(alice, alicesAgent, "#bash ls -a ..").getString("output");
      assertTrue(listing.contains(alicesAgent), listing);
      assertFalse(listing.contains(alicesOther) || listing.contains(bobsAgent), listing);

      assertEquals(bBefore, snapshot(b), "the neighbour's workspace is unchanged");
      assertEquals(cBefore, snapshot(c), "the other user's agent's workspace is unchanged");
      try (Stream<Path> all = Files.walk(platform.dataDir())) {
        List<Path> planted = all.filter(p -> p.getFileName().toString().matches("pwned\\.txt|written\\.txt")).toList();
        assertEquals(List.of(), planted, "no file was made outside the agent's workspace");
      }
    }
  }

  @Test
  @Order(3)
  void theStoreAndTheDataDirectoryAreOutOfReach() throws Exception {
    Path db = platform.dataDir().resolve("agent-platform.db");
    assertTrue(Files.size(db) > 0, "the SQLite store is there, next to the workspaces");
    try (WsClient alice = platform.connect("alice")) {
      String read = toolResult(alice, alicesAgent, "#bash head -c 100 " + db).getString("output");
      assertTrue(read.contains("No such file or directory"), read);
      assertFalse(read.contains("SQLite"), read);
      String listing = toolResult(alice, alicesAgent, "#bash ls -a " + platform.dataDir()).getString("output");
      assertFalse(listing.contains("agent-platform.db"), listing);
      assertEquals(List.of(".", "..", "workspaces"), List.of(listing.strip().split("\\s+")),
          "only the way down to its own workspace");
    }
  }

  @Test
  @Order(4)
  void anAgentSeesOnlyItsOwnProcessesAndEnvironmentNotTheServers() throws Exception {
    long server = serverPid();
    String serverEnvironment = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(server), "environ")),
        StandardCharsets.UTF_8);
    assertTrue(serverEnvironment.contains("FIRESTORE_EMULATOR_HOST="), "the server's environment is there to steal");
    try (WsClient alice = platform.connect("alice")) {
      String procs = toolResult(alice, alicesAgent, "#bash ls /proc").getString("output");
      List<Long> pids = new ArrayList<>();
      Matcher m = Pattern.compile("(?m)^(\\d+)$").matcher(procs);
      while (m.find()) {
        pids.add(Long.parseLong(m.group(1)));
      }
      assertTrue(pids.contains(1L), "its own PID namespace, with its own init: " + procs);
      assertFalse(pids.contains(server), "the server is not among its processes: " + pids);
      long hostProcesses = ProcessHandle.allProcesses().count();
      assertTrue(pids.size() < 10 && hostProcesses > pids.size() + 10,
          "only its own few processes: " + pids + " of " + hostProcesses + " on the host");

      String environ = toolResult(alice, alicesAgent, "#bash cat /proc/" + server + "/environ").getString("output");
      assertTrue(environ.contains("No such file or directory"), environ);
      assertFalse(environ.contains("FIRESTORE_EMULATOR_HOST"), environ);

      // Its own environment is the clean one the platform builds, with nothing of the server's.
      String env = toolResult(alice, alicesAgent, "#bash env").getString("output");
      assertTrue(env.contains("HOME=" + platform.workspace(alicesAgent)), env);
      for (String serverOnly : List.of("FIRESTORE_EMULATOR_HOST", "DATA_DIR=", "HTTP_PORT=", "AUTH_MODE=")) {
        assertFalse(env.contains(serverOnly), serverOnly + " in " + env);
      }
    }
  }

  @Test
  @Order(5)
  void anInterruptEndsTheCliAndItsToolsInsideTheSandbox() throws Exception {
    try (WsClient alice = platform.connect("alice")) {
      String agent = createAgent(alice, "sleeper", "Bash");
      send(alice, agent, "#bash tail -f /dev/null");
      alice.event(agent, "tool_call");
      // bubblewrap's own init, the CLI, the tool's shell and tail: all in the workspace, seen from the host.
      eventually(() -> platform.processesIn(agent).size() >= 3, () -> "the tool runs: " + platform.processesIn(agent));
      alice.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
      alice.event(agent, "turn_interrupted");
      ConversationIT.platform = platform;
      ConversationIT.waitUntilNoProcesses(agent);
      assertEquals("Echo: still there?", text(turn(alice, agent, "still there?")));
    }
  }

  @Test
  @Order(6)
  void withoutASandboxAServerOfSeveralUsersRefusesToRunAgents() throws Exception {
    platform.restart(Map.of("STORE", "embedded", "SANDBOX", "none"));
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(503, ready.statusCode(), ready.body());
    JsonObject data = readyData(ready);
    assertEquals("none: SANDBOX=none; turns refused (see runtime)", data.getString("sandbox"));
    String reason = data.getString("runtime");
    assertTrue(reason.contains("would run without a sandbox (SANDBOX=none)"), reason);
    assertTrue(reason.contains("set ALLOW_UNSANDBOXED_USERS=true"), reason);
    try (WsClient alice = platform.connect("alice")) {
      JsonObject refused = alice.call("send", Json.createObjectBuilder().add("agentId", alicesAgent).add("text", "hi"));
      assertEquals("unavailable", refused.getString("code"), refused.toString());
      assertTrue(refused.getString("message").contains("ALLOW_UNSANDBOXED_USERS=true"), refused.toString());
    }
  }

  /** Runs one turn of the agent and returns the result of its one tool call, as the user sees it. */
  private static JsonObject toolResult(WsClient ws, String agent, String text) throws InterruptedException {
    return find(turn(ws, agent, text), "tool_result");
  }

  private static JsonObject readyData(HttpResponse<String> ready) {
    JsonObject body = Json.createReader(new StringReader(ready.body())).readObject();
    return body.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
        .filter(c -> "agent-platform-ready".equals(c.getString("name"))).findFirst().orElseThrow()
        .getJsonObject("data");
  }

  /** Every file and link of a workspace but the CLI's own config directory, with its content or target. */
  private static Map<String, String> snapshot(Path workspace) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(workspace)) {
      for (Path p : walk.toList()) {
        String name = workspace.relativize(p).toString();
        if (name.equals(".claude") || name.startsWith(".claude/")) {
          continue;
        }
        if (Files.isSymbolicLink(p)) {
          files.put(name, "-> " + Files.readSymbolicLink(p));
        } else if (Files.isRegularFile(p)) {
          files.put(name, Files.readString(p, StandardCharsets.ISO_8859_1));
        } else {
          files.put(name, "(directory)");
        }
      }
    }
    return files;
  }

  /** The Liberty server's pid, from the file its start script writes. */
  private static long serverPid() throws IOException {
    Path libertyDir = Path.of(System.getProperty("it.liberty.dir", "target/liberty/wlp")).toAbsolutePath();
    String server = System.getProperty("it.server.name", "defaultServer");
    return Long.parseLong(Files.readString(libertyDir.resolve("usr/servers/.pid/" + server + ".pid")).strip());
  }

  private static void eventually(java.util.function.BooleanSupplier condition,
      java.util.function.Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what.get());
      }
      Thread.sleep(100);
    }
  }
}
