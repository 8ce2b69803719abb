package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.find;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.TestDocker;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Docker runtime on a real Docker Engine (the tests' own dockerd, host networking, the agent image built from
 * this machine's files): real containers, execs, volumes and limits, with the real CLI in them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerIT {

  static final String PREFIX = "apit";
  static Platform platform;
  static TestDocker docker;

  /** The Docker settings of these tests; AGENT_RUNTIME is left to its default (auto), which must find the engine. */
  static Map<String, String> dockerEnv(Map<String, String> more) {
    Map<String, String> env = new HashMap<>();
    env.put("AGENT_RUNTIME", null);
    env.put("DOCKER_HOST", docker.host());
    env.put("DOCKER_IMAGE", TestDocker.image());
    env.put("DOCKER_CONTAINER_PREFIX", PREFIX);
    env.put("DOCKER_NETWORK", "host");
    env.put("DOCKER_MEMORY", "1g");
    env.put("DOCKER_CPUS", "1.5");
    env.put("DOCKER_PIDS_LIMIT", "300");
    env.putAll(more);
    return env;
  }

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.get();
    docker = new TestDocker();
    docker.removeAll(PREFIX);
    platform.use(dockerEnv(Map.of()));
  }

  @AfterAll
  static void cleanUp() throws Exception {
    try {
      // The next test class states the environment it needs; the server only has to let go of the containers.
      platform.stop();
    } finally {
      docker.startEngine();
      docker.removeAll(PREFIX);
      assertEquals(List.of(), docker.containers(PREFIX), "no test leaves a container behind");
      docker.close();
    }
  }

  @Test
  @Order(1)
  void theAutomaticChoiceFindsTheEngineAndReadinessSaysSo() throws Exception {
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(200, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("docker: Docker Engine"), ready.body());
    assertTrue(ready.body().contains("AGENT_RUNTIME=auto and the Docker Engine at " + docker.host() + " answers"),
        ready.body());
  }

  @Test
  @Order(2)
  void aConversationRunsInTheUsersContainerAndItsFilesLandInTheUsersVolume() throws Exception {
    try (WsClient ws = platform.connect("erin")) {
      String agent = createAgent(ws, "boxed", "Write", "Bash");
      List<JsonObject> events = turn(ws, agent, "#write notes.txt Hello from a container");
      assertEquals("Write", find(events, "tool_call").getString("name"));
      assertFalse(find(events, "tool_result").getBoolean("isError"), events.toString());

      List<Container> mine = docker.containersOf(PREFIX, "erin");
      assertEquals(1, mine.size(), "one container for the user");
      String volume = volumeOf(docker.inspect(mine.get(0).getId()));
      assertEquals("Hello from a container", docker.readVolumeFile(volume, agent + "/notes.txt"));

      // The CLI runs as the image's non-root user, in the agent's own directory of the volume.
      List<JsonObject> who = turn(ws, agent, "#bash echo \"$(id -u):$(pwd)\"");
      assertEquals("1000:/workspace/" + agent, find(who, "tool_result").getString("output").strip());

      // The conversation goes on in the same warm CLI, and its output comes out of the container as it is made.
      assertEquals("Echo: and now?", text(turn(ws, agent, "and now?")));
      List<JsonObject> slow = turn(ws, agent, "#slow 3 400");
      List<JsonObject> texts = slow.stream().filter(e -> "assistant_text".equals(e.getString("kind"))).toList();
      assertEquals("chunk 1. chunk 2. chunk 3. ", text(slow));
      Instant firstText = Instant.parse(texts.get(0).getString("ts"));
      Instant done = Instant.parse(find(slow, "turn_completed").getString("ts"));
      assertTrue(Duration.between(firstText, done).toMillis() >= 600,
          "the first text was stored before the rest of the reply was generated: " + slow);
    }
  }

  @Test
  @Order(3)
  void twoAgentsOfOneUserShareOneContainerAndTwoUsersGetTwo() throws Exception {
    try (WsClient erin = platform.connect("erin"); WsClient frank = platform.connect("frank")) {
      String first = createAgent(erin, "first", "Write");
      String second = createAgent(erin, "second", "Write");
      turn(erin, first, "#write a.txt from the first");
      turn(erin, second, "#write b.txt from the second");
      List<Container> erins = docker.containersOf(PREFIX, "erin");
      assertEquals(1, erins.size(), "one container for both agents of a user");
      String volume = volumeOf(docker.inspect(erins.get(0).getId()));
      assertEquals("from the first", docker.readVolumeFile(volume, first + "/a.txt"));
      assertEquals("from the second", docker.readVolumeFile(volume, second + "/b.txt"));

      String franks = createAgent(frank, "other", "Write");
      turn(frank, franks, "#write c.txt from frank");
      List<Container> frankContainers = docker.containersOf(PREFIX, "frank");
      assertEquals(1, frankContainers.size());
      assertNotEquals(erins.get(0).getId(), frankContainers.get(0).getId(), "another user, another container");
      String franksVolume = volumeOf(docker.inspect(frankContainers.get(0).getId()));
      assertNotEquals(volume, franksVolume, "another user, another volume");
      assertEquals("from frank", docker.readVolumeFile(franksVolume, franks + "/c.txt"));

      // Deleting an agent deletes its workspace from the volume (in the background), and only its own.
      assertEquals("reply", erin.call("agent.delete", Json.createObjectBuilder().add("agentId", first))
          .getString("type"));
      eventually(() -> !docker.volumePathExists(volume, first), "the deleted agent's workspace is gone");
      assertEquals("from the second", docker.readVolumeFile(volume, second + "/b.txt"));
    }
  }

  @Test
  @Order(4)
  void theLimitsAndTheLockDownShowInInspect() {
    InspectContainerResponse c = docker.inspect(docker.containersOf(PREFIX, "erin").get(0).getId());
    HostConfig host = c.getHostConfig();
    assertEquals(1L << 30, host.getMemory());
    assertEquals(1L << 30, host.getMemorySwap(), "no swap beyond the memory limit");
    assertEquals(1_500_000_000L, host.getNanoCPUs());
    assertEquals(300L, host.getPidsLimit());
    assertFalse(Boolean.TRUE.equals(host.getPrivileged()));
    assertEquals("[ALL]", java.util.Arrays.toString(host.getCapDrop()));
    assertEquals(List.of("no-new-privileges"), host.getSecurityOpts());
    assertEquals("host", host.getNetworkMode());
    assertTrue(Boolean.TRUE.equals(host.getReadonlyRootfs()));
    assertEquals("1000:1000", c.getConfig().getUser());
    // The platform's command, not the image's (the runner, for the kubernetes runtime's pods).
    assertEquals(List.of("sleep", "infinity"), List.of(c.getConfig().getEntrypoint()));
    assertTrue(c.getConfig().getCmd() == null || c.getConfig().getCmd().length == 0, "nothing of the image's CMD");
    String mounts = c.getMounts().toString();
    assertFalse(mounts.contains("docker.sock"), "no Docker socket inside: " + mounts);
    assertEquals(1, c.getMounts().size(), "only the user's volume is mounted: " + mounts);
    Map<String, String> labels = c.getConfig().getLabels();
    assertEquals("erin", labels.get("dev.agentplatform.user"));
    assertEquals(System.getProperty("it.platform.version"), labels.get("dev.agentplatform.version"));
  }

  @Test
  @Order(5)
  void anInterruptEndsTheCliAndEverythingItStartedInTheContainer() throws Exception {
    try (WsClient ws = platform.connect("erin")) {
      String agent = createAgent(ws, "sleeper", "Bash");
      // (The CLI refuses a bare "sleep 300" as a tool call.)
      send(ws, agent, "#bash tail -f /dev/null");
      ws.event(agent, "tool_call");
      String container = docker.containersOf(PREFIX, "erin").get(0).getId();
      eventually(() -> processesIn(container, agent).contains("tail -f /dev/null"),
          () -> "the tool's process runs in the agent's workspace: " + processesIn(container, agent));
      assertTrue(processesIn(container, agent).contains("claude"), processesIn(container, agent));
      ws.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
      ws.event(agent, "turn_interrupted");
      eventually(() -> processesIn(container, agent).isBlank(),
          () -> "the CLI and the tool's process were ended: " + processesIn(container, agent));
      assertEquals("Echo: still there?", text(turn(ws, agent, "still there?")));
    }
  }

  @Test
  @Order(6)
  void aContainerKilledMidTurnFailsThatTurnAndTheNextMessageBringsItBack() throws Exception {
    try (WsClient ws = platform.connect("frank")) {
      String agent = createAgent(ws, "fragile", "Bash");
      assertEquals("Echo: remember 7", text(turn(ws, agent, "remember 7")));
      send(ws, agent, "#bash tail -f /dev/null");
      ws.event(agent, "tool_call");
      String container = docker.containersOf(PREFIX, "frank").get(0).getId();
      docker.client.killContainerCmd(container).exec();
      List<JsonObject> events = ws.eventsUntil(agent, "turn_failed");
      String reason = events.get(events.size() - 1).getString("reason");
      assertTrue(reason.contains("stopped"), reason);
      ws.event(agent, "agent_status");

      platform.model.clearRequests();
      assertEquals("Echo: what number?", text(turn(ws, agent, "what number?")));
      assertTrue(Boolean.TRUE.equals(docker.inspect(container).getState().getRunning()), "the same container, started");
      String history = platform.model.requests().get(0).getJsonArray("messages").toString();
      assertTrue(history.contains("remember 7"), "the new CLI resumed the session: " + history);
    }
  }

  @Test
  @Order(7)
  void aStoppedDaemonGivesTypedErrorsAndReadinessDownThenTheNextMessageWorksAgain() throws Exception {
    try (WsClient ws = platform.connect("erin")) {
      String agent = createAgent(ws, "patient");
      assertEquals("Echo: before", text(turn(ws, agent, "before")));
      docker.stopEngine();
      try {
        eventually(() -> readyStatus() == 503, "readiness goes down");
        HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
        assertTrue(ready.body().contains("does not answer (DOCKER_HOST)"), ready.body());
        JsonObject reply = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "now?"));
        assertEquals("error", WsClient.type(reply), reply.toString());
        assertEquals("unavailable", reply.getString("code"), reply.toString());
        assertTrue(reply.getString("message").contains("Docker Engine"), reply.toString());
      } finally {
        docker.startEngine();
      }
      eventually(() -> readyStatus() == 200, "readiness comes back with the daemon");
      assertEquals("Echo: after", text(turn(ws, agent, "after")));
    }
  }

  @Test
  @Order(8)
  void shutdownEndsTheClisStartUpAdoptsCurrentContainersRemovesOthersAndIdleOnesAreStoppedThenRemoved()
      throws Exception {
    String erins = docker.containersOf(PREFIX, "erin").get(0).getId();
    // A container of this platform from another version: removed at start-up.
    String stale = docker.client.createContainerCmd(TestDocker.image()).withName(PREFIX + "-user-stale")
        .withLabels(Map.of("dev.agentplatform.platform", PREFIX, "dev.agentplatform.user", "ghost",
            "dev.agentplatform.version", "0.0.1-old"))
        .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host")).exec().getId();
    assertTrue(docker.exec(erins, "ps", "-o", "args").contains("claude"), "warm CLIs run in the container");
    platform.stop();
    assertFalse(docker.exec(erins, "ps", "-o", "args").contains("claude"), "the stopping server ended its CLIs");
    assertTrue(Boolean.TRUE.equals(docker.inspect(erins).getState().getRunning()), "and left the container running");
    platform.start(dockerEnv(Map.of("CLI_IDLE_SECONDS", "1", "DOCKER_IDLE_STOP_SECONDS", "3",
        "DOCKER_IDLE_REMOVE_SECONDS", "3")));
    assertEquals(200, readyStatus());
    assertTrue(docker.client.listContainersCmd().withShowAll(true).withIdFilter(List.of(stale)).exec().isEmpty(),
        "the stale container was removed at start-up");
    assertEquals(List.of(erins), docker.containersOf(PREFIX, "erin").stream().map(Container::getId).toList(),
        "the current container was adopted, not made again");

    try (WsClient ws = platform.connect("erin")) {
      String agent = createAgent(ws, "brief");
      assertEquals("Echo: hi", text(turn(ws, agent, "hi")));
    }
    eventually(() -> !Boolean.TRUE.equals(docker.inspect(erins).getState().getRunning()),
        "the idle user's container is stopped");
    eventually(() -> docker.containersOf(PREFIX, "erin").isEmpty(), "the stopped container is removed later");
    assertEquals(1, docker.client.listVolumesCmd().withFilter("label", List.of("dev.agentplatform.user=erin"))
        .exec().getVolumes().size(), "the user's volume stays");
  }

  @Test
  @Order(9)
  void aMissingImageIsATypedErrorThatNamesIt() throws Exception {
    platform.restart(dockerEnv(Map.of("DOCKER_IMAGE", "agent-platform-agent:not-built")));
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(503, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("the agent image 'agent-platform-agent:not-built' is not in the Docker Engine"),
        ready.body());
    try (WsClient ws = platform.connect("erin")) {
      String agent = createAgent(ws, "imageless");
      JsonObject reply = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "hello"));
      assertEquals("unavailable", reply.getString("code"), reply.toString());
      assertTrue(reply.getString("message").contains("'agent-platform-agent:not-built'"), reply.toString());
    }
  }

  @Test
  @Order(10)
  void disableDockerTurnsItOffAndWithoutAnEngineTheAutomaticChoiceIsProcesses() throws Exception {
    platform.restart(dockerEnv(Map.of("DISABLE_DOCKER", "true", "AGENT_RUNTIME", "docker")));
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertTrue(ready.body().contains("\"runtime\":\"process: "), ready.body());
    assertTrue(ready.body().contains("DISABLE_DOCKER=true overrides AGENT_RUNTIME=docker"), ready.body());
    int before = docker.containers(PREFIX).size();
    try (WsClient ws = platform.connect("gina")) {
      String agent = createAgent(ws, "local");
      assertEquals("Echo: here?", text(turn(ws, agent, "here?")));
    }
    assertEquals(before, docker.containers(PREFIX).size(), "no container was made");

    // Automatic choice with no engine answering: the process runtime, and readiness says why.
    platform.restart(dockerEnv(Map.of("DOCKER_HOST", "unix:///nonexistent/docker.sock")));
    ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(200, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains(
        "AGENT_RUNTIME=auto and no Docker Engine answers at unix:///nonexistent/docker.sock"),
        ready.body());
  }

  private static String volumeOf(InspectContainerResponse container) {
    return container.getMounts().get(0).getName();
  }

  private static int readyStatus() {
    try {
      return platform.call("GET", "/health/ready", null, null).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The command lines of the container's processes whose working directory is in the agent's workspace. */
  private static String processesIn(String container, String agent) {
    try {
      return docker.exec(container, "sh", "-c", "for d in /proc/[0-9]*; do case \"$(readlink \"$d/cwd\")\" in"
          + " \"$1\"*) tr '\\0' ' ' < \"$d/cmdline\"; echo ;; esac; done", "list", "/workspace/" + agent).strip();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
    eventually(condition, () -> what);
  }

  private static void eventually(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what.get());
      }
      Thread.sleep(200);
    }
  }
}
