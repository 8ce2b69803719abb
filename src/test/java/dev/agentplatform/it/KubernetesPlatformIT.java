package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.runtime.kubernetes.SandboxObjects;
import dev.agentplatform.testing.FakeCluster;
import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.RunnerProcess;
import dev.agentplatform.testing.WsClient;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The platform with {@code AGENT_RUNTIME=kubernetes} against {@link FakeCluster} (the mock API server and a kubelet
 * that runs each pod's runner on this host), over the WebSocket: a new agent's first turn shows its sandbox starting
 * before the streamed reply, a follow-up runs on the warm CLI in the same pod, deleting the agent deletes its pod,
 * volume and secret, and readiness names the runtime. One Liberty start for the class.
 */
class KubernetesPlatformIT {

  private static final String NS = "agent-sandboxes-it";

  static FakeCluster cluster;
  static Platform platform;
  static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    // Beside the platform's work directory, not in it: the platform's first start empties that.
    Path dir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath().resolveSibling("it-cluster-"
        + System.nanoTime());
    cluster = new FakeCluster(NS, dir).start();
    env = new HashMap<>(cluster.environment());
    env.put("SANDBOX_CLI_PATH", System.getProperty("it.claude.cli.path"));
    env.put("STORE", "embedded");
    env.put("FIRESTORE_EMULATOR_HOST", null);
    env.put("FIRESTORE_PROJECT_ID", null);
    platform = Platform.with(env);
    // The runtime asks the API server about its permissions on a worker after start: ready once it has answered.
    await(() -> ready().statusCode() == 200, Duration.ofSeconds(60), "readiness UP");
  }

  @AfterAll
  static void end() throws Exception {
    // The server first (its runtime closes its watches while the API server still answers), then the cluster; the
    // next class starts the server with its own environment.
    if (platform != null) {
      platform.stop();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void readinessNamesTheKubernetesRuntimeAndItsApiServer() throws Exception {
    HttpResponse<String> ready = ready();
    assertEquals(200, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("\"runtime\":\"kubernetes: Kubernetes API server at " + cluster.apiServer()),
        ready.body());
    assertTrue(ready.body().contains("namespace " + NS), ready.body());
  }

  @Test
  void aTurnCrossesIntoTheAgentsPodAndTheNextRunsOnTheWarmCliThere() throws Exception {
    KubernetesClient k8s = cluster.client();
    // The agent's pod is made as soon as it is created (its CLI is warmed): held Pending, the first turn must show
    // what it waits for.
    cluster.holdPending(null, FakeCluster.UNSCHEDULABLE, "0/3 nodes are available: 3 Insufficient cpu");
    try (WsClient ws = platform.connect("kate")) {
      String agent = createAgent(ws, "in a pod", "Write");
      String turnId = send(ws, agent, "hello from the pod").getString("turnId");

      List<JsonObject> events = new ArrayList<>();
      String held = "starting a sandbox: waiting for a node (0/3 nodes are available: 3 Insufficient cpu)";
      while (events.stream().noneMatch(e -> held.equals(e.getString("detail", null)))) {
        events.add(nextOfTurn(ws, agent, turnId, events));
      }
      assertTrue(events.stream().noneMatch(e -> "assistant_text".equals(e.getString("kind"))), events.toString());
      cluster.release(null);
      while (!"turn_completed".equals(events.get(events.size() - 1).getString("kind"))) {
        events.add(nextOfTurn(ws, agent, turnId, events));
      }
      int firstSandbox = indexOf(events, e -> "agent_status".equals(e.getString("kind")) && "running".equals(e
          .getString("status")) && e.getString("detail", "").startsWith("starting a sandbox: "));
      int firstText = indexOf(events, e -> "assistant_text".equals(e.getString("kind")));
      assertTrue(firstSandbox >= 0 && firstText > firstSandbox, "sandbox progress before the reply: " + events);
      assertEquals("Echo: hello from the pod", text(events));

      Pod pod = k8s.pods().inNamespace(NS).withName(SandboxObjects.podName(agent)).get();
      assertEquals("Running", pod.getStatus().getPhase());
      RunnerProcess runner = cluster.runner(agent, Duration.ofSeconds(10));
      List<Long> clis = runner.process().descendants().map(ProcessHandle::pid).toList();
      assertFalse(clis.isEmpty(), "the CLI runs under the pod's runner");

      // A follow-up: no sandbox step, the same pod, the same CLI process; its Write lands on the agent's volume.
      List<JsonObject> second = turn(ws, agent, "#write notes.txt written in the pod");
      assertEquals("Wrote the file.", text(second), second.toString());
      assertTrue(second.stream().noneMatch(e -> e.getString("detail", "").startsWith("starting a sandbox")),
          second.toString());
      assertEquals(pod.getMetadata().getUid(), k8s.pods().inNamespace(NS).withName(SandboxObjects.podName(agent))
          .get().getMetadata().getUid(), "the same pod");
      assertTrue(runner.process().descendants().map(ProcessHandle::pid).toList().containsAll(clis),
          "the same warm CLI");
      Path volume = cluster.volume(SandboxObjects.claimName(agent));
      assertEquals("written in the pod", Files.readString(volume.resolve("notes.txt")));

      // The pod's secret reached the runner as a file, never the server's log.
      String secret = new String(Base64.getDecoder().decode(k8s.secrets().inNamespace(NS).withName(SandboxObjects
          .secretName(agent)).get().getData().get("secret")), StandardCharsets.UTF_8);
      assertFalse(platform.serverLog().contains(secret), "the pod's secret is not in the server's log");

      // Deleting the agent deletes its pod, volume and secret; the kubelet stops the runner.
      JsonObject deleted = ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));
      assertEquals("reply", deleted.getString("type"), deleted.toString());
      await(() -> k8s.pods().inNamespace(NS).withName(SandboxObjects.podName(agent)).get() == null
          && k8s.persistentVolumeClaims().inNamespace(NS).withName(SandboxObjects.claimName(agent)).get() == null
          && k8s.secrets().inNamespace(NS).withName(SandboxObjects.secretName(agent)).get() == null,
          Duration.ofSeconds(30), "pod, PVC and secret of the deleted agent gone");
      await(() -> !runner.process().isAlive(), Duration.ofSeconds(30), "the runner stopped");
      await(() -> !Files.exists(volume), Duration.ofSeconds(60), "the volume's files deleted with its claim");
    } finally {
      cluster.release(null);
    }
  }

  /**
   * kill -9 of the server while a turn streams in the agent's pod: the runner keeps the CLI running, and the server
   * that starts again takes the turn up from the pod, so the stored turn is whole (every delta once, in order, seqs
   * without a gap), ends once with turn_completed, and the next message goes to the same CLI in the same pod.
   */
  @Test
  void aTurnStreamingWhenTheServerIsKilledGoesOnAfterItsRestartWithNoGapAndNoDuplicate() throws Exception {
    KubernetesClient k8s = cluster.client();
    String agent;
    String cut;
    List<JsonObject> seen = new ArrayList<>();
    try (WsClient ws = platform.connect("leo")) {
      agent = createAgent(ws, "outlives its server");
      cut = send(ws, agent, "#slow 80 100").getString("turnId");
      while (seen.stream().filter(e -> "assistant_text".equals(e.getString("kind"))).count() < 5) {
        seen.add(nextOfTurn(ws, agent, cut, seen));
      }
    }
    RunnerProcess runner = cluster.runner(agent, Duration.ofSeconds(10));
    List<Long> clis = runner.process().descendants().map(ProcessHandle::pid).toList();
    String podUid = k8s.pods().inNamespace(NS).withName(SandboxObjects.podName(agent)).get().getMetadata().getUid();

    platform.killServer();
    platform.start(env);

    List<JsonObject> history = new ArrayList<>();
    await(() -> {
      history.clear();
      history.addAll(TurnRacesIT.wholeHistory(platform, "leo", agent));
      return history.stream().anyMatch(e -> cut.equals(e.getString("turnId")) && TurnRacesIT.END_KINDS.contains(e
          .getString("kind")));
    }, Duration.ofSeconds(90), "the cut turn ended");
    assertEquals(seen, history.subList(0, seen.size()), "every event a client saw was kept as it was");
    for (int i = 0; i < history.size(); i++) {
      assertEquals(i + 1, history.get(i).getJsonNumber("seq").longValue(), "seqs without a gap: " + history);
    }
    List<JsonObject> ofCut = history.stream().filter(e -> cut.equals(e.getString("turnId"))).toList();
    StringBuilder expected = new StringBuilder();
    for (int i = 1; i <= 80; i++) {
      expected.append("chunk ").append(i).append(". ");
    }
    assertEquals(expected.toString(), text(ofCut), "every delta once, in order");
    assertEquals(List.of("turn_completed"), ofCut.stream().map(e -> e.getString("kind")).filter(
        TurnRacesIT.END_KINDS::contains).toList(), "one end, and it completed: " + ofCut);
    assertTrue(platform.serverLog().contains("took up turn " + cut), "the restarted server took the turn up");

    await(() -> ready().statusCode() == 200, Duration.ofSeconds(60), "readiness UP");
    try (WsClient ws = platform.connect("leo")) {
      List<JsonObject> next = turn(ws, agent, "still there?");
      assertEquals("Echo: still there?", text(next));
    }
    assertEquals(podUid, k8s.pods().inNamespace(NS).withName(SandboxObjects.podName(agent)).get().getMetadata()
        .getUid(), "the same pod");
    assertTrue(runner.process().descendants().map(ProcessHandle::pid).toList().containsAll(clis),
        "the same CLI, never started twice");
  }

  private static JsonObject nextOfTurn(WsClient ws, String agent, String turnId, List<JsonObject> before)
      throws InterruptedException {
    try {
      return ws.next(f -> "event".equals(WsClient.type(f)) && agent.equals(f.getJsonObject("event").getString(
          "agentId")) && turnId.equals(f.getJsonObject("event").getString("turnId", null))).getJsonObject("event");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the turn's events so far: " + before, e);
    }
  }

  private static int indexOf(List<JsonObject> events, java.util.function.Predicate<JsonObject> p) {
    for (int i = 0; i < events.size(); i++) {
      if (p.test(events.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private static HttpResponse<String> ready() throws Exception {
    return platform.call("GET", "/health/ready", null, null);
  }

  private static void await(Check condition, Duration timeout, String what) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.holds()) {
      assertTrue(System.nanoTime() < deadline, what + " within " + timeout);
      Thread.sleep(250); // polling interval of the condition, not a stand-in for it
    }
  }

  /** A condition that may throw. */
  @FunctionalInterface
  private interface Check {
    boolean holds() throws Exception;
  }
}
