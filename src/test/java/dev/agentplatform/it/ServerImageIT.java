package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.find;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Volume;
import dev.agentplatform.testing.ScriptedModel;
import dev.agentplatform.testing.TestDocker;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The server's image (the local equivalent of the Containerfile, from containers/server/build-local) on the tests'
 * Docker Engine, run as a pod of the manifests runs it: as uid 1001, a read-only root file system, a tmpfs or a
 * volume at exactly each path of its {@code dev.agentplatform.writable-paths} label, all capabilities dropped, no new
 * privileges. Its probes answer as the manifests ask, a turn runs on the process runtime with the real CLI against the
 * scripted model, its logs are JSON lines without the API key, and {@code docker stop} (SIGTERM) during a turn ends
 * it within the grace period with the turn recorded as interrupted, which a second container on the same data volume
 * shows. One container serves every check but the stop, which comes last.
 *
 * <p>Host networking, as all the tests' containers (no bridge here), so the container shares the host's interfaces:
 * the test sets {@code HTTP_HOST=127.0.0.1} (the image says {@code *}, right for a pod with its own network
 * namespace) so that the server listens on loopback only, on a free port. {@code SANDBOX=none}: bubblewrap is not in
 * the image, and in a container under the default seccomp profile (as a pod under RuntimeDefault) it could not make
 * its namespaces anyway; there the pod is the sandbox.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerImageIT {

  private static final String SECRET = "sk-image-it-never-log-this-9876543210";
  private static final String NAME = "apimg-";
  private static final String DATA = "/var/lib/agent-platform/data";
  /** The pod's termination grace period (Kubernetes' default), which docker stop gets as its timeout. */
  private static final int GRACE_SECONDS = 30;

  static TestDocker docker;
  static ScriptedModel model;
  static String image;
  static String volume;
  static int port;
  static String container;
  static final List<String> containers = new ArrayList<>();
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    docker = new TestDocker();
    image = TestDocker.serverImage();
    // What a run that died before its clean-up left behind.
    docker.client.listContainersCmd().withShowAll(true).withNameFilter(List.of(NAME)).exec()
        .forEach(c -> docker.client.removeContainerCmd(c.getId()).withForce(true).exec());
    docker.client.listVolumesCmd().exec().getVolumes().stream().filter(v -> v.getName().startsWith(NAME))
        .forEach(v -> docker.client.removeVolumeCmd(v.getName()).exec());
    model = ScriptedModel.start(0);
    volume = NAME + "data-" + UUID.randomUUID().toString().substring(0, 8);
    docker.client.createVolumeCmd().withName(volume).exec();
    port = freePort();
    container = run();
  }

  @AfterAll
  static void cleanUp() throws Exception {
    try {
      for (String id : containers) {
        docker.client.removeContainerCmd(id).withForce(true).exec();
      }
      docker.client.removeVolumeCmd(volume).exec();
    } finally {
      model.close();
      docker.close();
    }
  }

  @Test
  @Order(1)
  void theProbesAnswerAsTheManifestsAsk() throws Exception {
    HttpResponse<String> started = get("/health/started");
    assertEquals(200, started.statusCode(), started.body());
    assertTrue(started.body().contains("\"agent-platform-started\""), started.body());
    HttpResponse<String> live = get("/health/live");
    assertEquals(200, live.statusCode(), live.body());
    assertTrue(live.body().contains("\"agent-platform-live\""), live.body());
    HttpResponse<String> ready = get("/health/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    JsonObject check = Json.createReader(new StringReader(ready.body())).readObject().getJsonArray("checks")
        .getJsonObject(0);
    assertEquals("UP", check.getString("status"));
    JsonObject data = check.getJsonObject("data");
    assertTrue(data.getString("runtime").startsWith("process: Claude Code " + System.getProperty(
        "claude.cli.version", "2.1.328")), data.toString());
    assertEquals("DISABLE_DOCKER=true; not kubernetes: not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not"
        + " set)", data.getString("runtime-chosen-because"));
    assertTrue(data.getString("store").startsWith("embedded: reachable"), data.toString());
    assertEquals(200, get("/metrics").statusCode(), "the scrape endpoint");
  }

  @Test
  @Order(2)
  void itRunsAsItsUserWithTheRootReadOnlyAndTheImageLabelsSayWhatItIs() throws Exception {
    assertEquals("1001 0", docker.exec(container, "sh", "-c", "echo $(id -u) $(id -g)").strip());
    String denied = docker.exec(container, "sh", "-c",
        "touch /opt/ol/wlp/usr/servers/defaultServer/x 2>&1 || echo refused");
    assertTrue(denied.contains("Read-only file system") && denied.contains("refused"), denied);
    Map<String, String> labels = docker.client.inspectImageCmd(image).exec().getConfig().getLabels();
    assertEquals(System.getProperty("claude.cli.version", "2.1.328"), labels.get("dev.agentplatform.cli-version"));
    assertEquals(System.getProperty("it.platform.version"), labels.get("org.opencontainers.image.version"));
    assertFalse(labels.getOrDefault("org.opencontainers.image.revision", "").isBlank());
  }

  @Test
  @Order(3)
  void aTurnRunsOverTheWebSocketWithTheCliInTheImage() throws Exception {
    try (WsClient ws = WsClient.connect(ws(), null)) {
      String agent = createAgent(ws, "in-the-image", "Bash");
      assertEquals("Echo: hello from a pod", text(turn(ws, agent, "hello from a pod")));
      // The CLI's tools run too, as the image's user, in the agent's workspace (a writable path).
      List<JsonObject> ran = turn(ws, agent, "#bash echo \"$(id -u) $(pwd)\"");
      assertEquals("1001 /var/lib/agent-platform/workspaces/" + agent, find(ran, "tool_result").getString("output")
          .strip());
    }
  }

  @Test
  @Order(4)
  void itsLogsAreJsonLinesOnStdoutWithoutTheApiKey() throws Exception {
    Map<StreamType, String> logs = logs(container);
    String stdout = logs.get(StreamType.STDOUT);
    int json = 0;
    for (String line : stdout.lines().toList()) {
      if (line.isBlank() || line.startsWith("Launching defaultServer (")) {
        continue; // the launcher's banner, printed before Liberty's logging starts, in every console format
      }
      JsonObject o = Json.createReader(new StringReader(line)).readObject();
      assertTrue(o.containsKey("message") && o.containsKey("severity"), line);
      json++;
    }
    assertTrue(json > 20, "Liberty's and the platform's messages: " + json);
    assertTrue(stdout.contains("turns can run"), "the platform's own log lines are among them");
    assertFalse(stdout.contains(SECRET) || logs.get(StreamType.STDERR).contains(SECRET), "no line holds the API key");
  }

  @Test
  @Order(5)
  void dockerStopDuringATurnRecordsItAsInterruptedClosesTheSocketWith1012AndEndsWithinTheGracePeriod()
      throws Exception {
    String agent;
    String turnId;
    List<JsonObject> seen;
    long stopMillis;
    try (WsClient ws = WsClient.connect(ws(), null)) {
      agent = createAgent(ws, "cut-short");
      turnId = send(ws, agent, "#slow 100 300").getString("turnId");
      ws.event(agent, "assistant_text");
      long t0 = System.nanoTime();
      docker.client.stopContainerCmd(container).withTimeout(GRACE_SECONDS).exec();
      stopMillis = (System.nanoTime() - t0) / 1_000_000;
      seen = ws.eventsUntil(agent, "turn_interrupted");
      assertEquals(1012, ws.closeCode(), "the page is told to reconnect");
    }
    InspectContainerResponse.ContainerState state = docker.inspect(container).getState();
    assertFalse(state.getRunning());
    // 143 = 128 + SIGTERM: the JVM's own handler exits so once Liberty has stopped (docker stop would answer a kill
    // after the timeout with 137).
    assertEquals(143L, state.getExitCodeLong(), "exit code after SIGTERM");
    assertTrue(stopMillis < GRACE_SECONDS * 1000L / 2, "stopped in " + stopMillis + " ms");
    System.err.printf("server image: docker stop took %d ms%n", stopMillis);
    JsonObject end = seen.get(seen.size() - 1);
    assertEquals("server stopping", end.getString("reason"));
    assertEquals(turnId, end.getString("turnId"));
    String log = logs(container).get(StreamType.STDOUT);
    assertTrue(log.contains("stopping (SIGTERM): 1 running turn(s) recorded as interrupted, 1 WebSocket(s) closed"
        + " with 1012"), "the stop happened before Liberty's own: " + log.lines().filter(l -> l.contains("stopping"))
            .toList());

    // A new container on the same data volume (a restarted pod with durable data) shows the turn ended once, as
    // interrupted, with nothing of a crash recovery.
    container = run();
    HttpResponse<String> history = get("/api/agents/" + agent + "/events?after=0&limit=500");
    assertEquals(200, history.statusCode(), history.body());
    List<JsonObject> events = Json.createReader(new StringReader(history.body())).readObject().getJsonArray("events")
        .getValuesAs(JsonValue::asJsonObject);
    List<JsonObject> ends = events.stream().filter(e -> turnId.equals(e.getString("turnId", null)))
        .filter(e -> e.getString("kind").startsWith("turn_")).toList();
    assertEquals(1, ends.size(), events.toString());
    assertEquals("turn_interrupted", ends.get(0).getString("kind"));
    assertEquals("server stopping", ends.get(0).getString("reason"));
    assertEquals("idle", events.get(events.size() - 1).getString("status"), "the agent is idle again");
  }

  /** Starts a container of the image as a pod of the manifests would run, and waits until it is ready. */
  private static String run() throws Exception {
    List<String> paths = List.of(docker.client.inspectImageCmd(image).exec().getConfig().getLabels()
        .get("dev.agentplatform.writable-paths").split(" "));
    assertTrue(paths.contains(DATA), "the data directory is a writable path: " + paths);
    // An emptyDir for each path but the data, which a volume keeps across containers. exec: the SQLite driver loads
    // its native library from /tmp (Docker's tmpfs is noexec unless told, an emptyDir is not).
    Map<String, String> tmpfs = new LinkedHashMap<>();
    for (String path : paths) {
      if (!path.equals(DATA)) {
        tmpfs.put(path, "rw,exec,nosuid,nodev,mode=1777");
      }
    }
    HostConfig host = HostConfig.newHostConfig().withNetworkMode("host").withReadonlyRootfs(true).withTmpFs(tmpfs)
        .withBinds(new Bind(volume, new Volume(DATA))).withCapDrop(Capability.ALL)
        .withSecurityOpts(List.of("no-new-privileges"));
    String id = docker.client.createContainerCmd(image).withName(NAME + UUID.randomUUID().toString().substring(0, 8))
        .withUser("1001:0").withHostConfig(host)
        .withEnv("HTTP_PORT=" + port, "HTTP_HOST=127.0.0.1", "SANDBOX=none", "ANTHROPIC_API_KEY=" + SECRET,
            "ANTHROPIC_BASE_URL=" + model.baseUrl())
        .exec().getId();
    containers.add(id);
    long t0 = System.nanoTime();
    docker.client.startContainerCmd(id).exec();
    long deadline = t0 + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> ready = tryGet("/health/ready");
      if (ready != null && ready.statusCode() == 200 && ready.body().contains("agent-platform-ready")) {
        System.err.printf("server image: start to ready in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        return id;
      }
      if (!docker.inspect(id).getState().getRunning()) {
        throw new AssertionError("the container exited: " + logs(id));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not ready within 120 s: " + logs(id));
  }

  private static Map<StreamType, String> logs(String id) throws InterruptedException {
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    docker.client.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new ResultCallback.Adapter<Frame>() {
      @Override
      public void onNext(Frame frame) {
        (frame.getStreamType() == StreamType.STDERR ? err : out)
            .append(new String(frame.getPayload(), StandardCharsets.UTF_8));
      }
    }).awaitCompletion(30, TimeUnit.SECONDS);
    return Map.of(StreamType.STDOUT, out.toString(), StreamType.STDERR, err.toString());
  }

  private static URI ws() {
    return URI.create("ws://127.0.0.1:" + port + "/ws");
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> tryGet(String path) throws InterruptedException {
    try {
      return get(path);
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      return null;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
