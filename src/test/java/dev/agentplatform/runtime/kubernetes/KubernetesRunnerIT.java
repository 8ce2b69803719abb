package dev.agentplatform.runtime.kubernetes;

import static dev.agentplatform.testing.RuntimeTurns.finish;
import static dev.agentplatform.testing.RuntimeTurns.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.testing.MockReviews;
import dev.agentplatform.testing.RunnerProcess;
import dev.agentplatform.testing.ScriptedModel;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kubernetes runtime joined to the runner: fabric8's mock API server in CRUD mode, the test playing the kubelet
 * by starting the built runner jar on 127.0.0.1 with the secret the runtime put in the pod's Secret and the
 * environment of the pod's container, then reporting the pod running at 127.0.0.1; a turn runs the real CLI through
 * {@link RunnerConnector} against the scripted model.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(120)
class KubernetesRunnerIT {

  private static final String NS = "sandboxes";
  /** The uid the runner runs the CLI as here, a uid of this test's own (see startRunner). */
  private static final int CLI_UID = 64011;
  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of("Bash", "Write"));

  KubernetesMockServer server;
  KubernetesClient client;

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
  private ScriptedModel model;
  private KubernetesRuntime runtime;
  private RunnerProcess runner;

  @AfterEach
  void end() throws Exception {
    if (runtime != null) {
      runtime.close();
    }
    if (runner != null) {
      runner.stop();
    }
    if (model != null) {
      model.close();
    }
    pool.shutdownNow();
    scheduler.shutdownNow();
  }

  @Test
  void aTurnRunsTheRealCliThroughTheRunnerInTheSandboxPod() throws Exception {
    Path workspace = startRuntime();
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("alice@example.com", "k1", "t1", "hello through the pod", SETTINGS, null),
        events::add);
    playKubelet(workspace);

    List<RuntimeEvent> first = finish(events);
    assertEquals("Echo: hello through the pod", text(first), first.toString());

    runtime.start(new TurnRequest("alice@example.com", "k1", "t2", "#write notes.txt written in the pod", SETTINGS,
        null), events::add);
    List<RuntimeEvent> second = finish(events);
    assertEquals("Wrote the file.", text(second), second.toString());
    assertEquals("written in the pod", Files.readString(workspace.resolve("notes.txt")),
        "the Write landed in the workspace volume");
    if ("root".equals(System.getProperty("user.name"))) {
      assertEquals(CLI_UID, Files.getAttribute(workspace.resolve("notes.txt"), "unix:uid"), "written by the CLI");
    }
  }

  @Test
  void aServerThatStartsAgainTakesUpTheTurnThePodStillRunsFromItsStart() throws Exception {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    streaming("turn_first", "#slow 25 100", events);

    // The server that started the turn is gone without ending anything (as after kill -9: its runtime is not
    // closed, which would end the CLIs); a new one, with a client of its own, takes the turn up from the pod.
    KubernetesRuntime again = new KubernetesRuntime(settings, new SandboxPods(server.createClient(), settings),
        new RunnerConnector(Duration.ofSeconds(20)), id -> true, scheduler, pool, 0);
    try {
      assertTrue(again.reattach(new TurnRequest("alice@example.com", "k1", "turn_other", null, SETTINGS, null),
          ev -> {
          }).isEmpty(), "a turn the runner never took cannot be taken up");
      BlockingQueue<RuntimeEvent> resumed = new LinkedBlockingQueue<>();
      assertTrue(again.reattach(new TurnRequest("alice@example.com", "k1", "turn_first", null, SETTINGS, null),
          resumed::add).isPresent(), "the turn is taken up");
      List<RuntimeEvent> all = finish(resumed);
      StringBuilder expected = new StringBuilder();
      for (int i = 1; i <= 25; i++) {
        expected.append("chunk ").append(i).append(". ");
      }
      assertEquals(expected.toString(), text(all), "the whole turn, from its first delta, once: " + all);
      assertEquals(1, all.stream().filter(RuntimeEvent.Completed.class::isInstance).count());

      // The CLI it took up stays the agent's warm CLI: the next message goes to it, no new CLI is started.
      again.start(new TurnRequest("alice@example.com", "k1", "turn_next", "after the restart", SETTINGS, null),
          resumed::add);
      assertEquals("Echo: after the restart", text(finish(resumed)));
      assertEquals(1, runnerInstances(), "one CLI in the pod");
    } finally {
      again.close();
    }
  }

  @Test
  void aPodThatVanishesMidTurnFailsTheTurnAtOnceWithTheReasonAndTheNextMessageGetsANewPod() throws Exception {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    Path workspace = streaming("turn_1", "#slow 200 100", events);
    RuntimeEvent e;
    String uid = client.pods().inNamespace(NS).withName("agent-k1").get().getMetadata().getUid();

    // The node is lost: the runner's connections stay open but nothing answers any more (the process is frozen),
    // and the API server removes the pod.
    signal(runner.process().pid(), "STOP");
    try {
      client.pods().inNamespace(NS).withName("agent-k1").delete();
      do {
        e = events.poll(60, TimeUnit.SECONDS);
        assertNotNull(e, "the turn ended");
      } while (!e.isFinal());
      assertInstanceOf(RuntimeEvent.Failed.class, e);
      assertTrue(((RuntimeEvent.Failed) e).reason().contains("its sandbox pod agent-k1 was deleted"), e.toString());
    } finally {
      signal(runner.process().pid(), "CONT");
    }
    runner.stop();
    runner = null;

    runtime.start(new TurnRequest("alice@example.com", "k1", "turn_2", "again", SETTINGS, null), events::add);
    Pod next = await(() -> client.pods().inNamespace(NS).withName("agent-k1").get());
    assertTrue(!uid.equals(next.getMetadata().getUid()), "a new pod");
    playKubelet(workspace);
    assertEquals("Echo: again", text(finish(events)));
  }

  /**
   * Starts the runtime, a turn of agent k1 and its pod, and returns (the pod's workspace volume) once the turn's
   * text streams.
   */
  private Path streaming(String turnId, String text, BlockingQueue<RuntimeEvent> events) throws Exception {
    Path workspace = startRuntime();
    runtime.start(new TurnRequest("alice@example.com", "k1", turnId, text, SETTINGS, null), events::add);
    playKubelet(workspace);
    RuntimeEvent e;
    do {
      e = events.poll(60, TimeUnit.SECONDS);
      assertNotNull(e, "the turn streams");
    } while (!(e instanceof RuntimeEvent.TextDelta));
    return workspace;
  }

  private static void signal(long pid, String name) throws Exception {
    assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor());
  }

  private KubernetesSettings settings;
  private Path dir;

  /** Starts the scripted model and the runtime against the mock API server; returns the pod's workspace volume. */
  private Path startRuntime() throws Exception {
    MockReviews.allowEvery(server, client);
    model = ScriptedModel.start(0);
    dir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath().resolve("kubernetes-"
        + System.nanoTime());
    Path workspace = Files.createDirectories(dir.resolve("workspace"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    settings = new KubernetesSettings(NS, "gvisor", "agent:test", "500m", "1Gi", "5Gi", "",
        "agent-sandbox", port, workspace.toString(), "agent-platform", "1.0", System.getProperty(
            "it.claude.cli.path"), "default", Duration.ofMinutes(5), 10_000_000, Map.of("ANTHROPIC_BASE_URL", model
                .baseUrl(), "ANTHROPIC_API_KEY", "sk-test-kubernetes"), Secrets.NONE, null);
    runtime = new KubernetesRuntime(settings, new SandboxPods(client, settings), new RunnerConnector(Duration
        .ofSeconds(20)), id -> true, scheduler, pool, 0);
    scheduler.getQueue().clear();
    assertTrue(runtime.check(true).status().available(), runtime.status().reason());
    return workspace;
  }

  /**
   * The kubelet's part for agent k1's pod: its Secret mounted for the runner, its container started with the pod's
   * environment, then the pod reported running and ready at the runner's address.
   */
  private void playKubelet(Path workspace) throws Exception {
    Pod pod = await(() -> client.pods().inNamespace(NS).withName("agent-k1").get());
    Secret secret = client.secrets().inNamespace(NS).withName("agent-k1-runner").get();
    Path secretDir = Files.createDirectories(dir.resolve("secret"));
    Files.setPosixFilePermissions(secretDir, PosixFilePermissions.fromString("rwx------"));
    Path secretFile = Files.write(secretDir.resolve("secret"), Base64.getDecoder().decode(secret.getData().get(
        SandboxObjects.SECRET_KEY)));
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("r--------"));
    runnerSecret = new String(Files.readAllBytes(secretFile), java.nio.charset.StandardCharsets.UTF_8);
    runner = startRunner(pod, secretFile, workspace, dir.resolve("runner.log"));
    if ("root".equals(System.getProperty("user.name"))) {
      // The runner, root, gave the volume's root (root's, as a new volume's is) to the CLI.
      assertEquals(CLI_UID, Files.getAttribute(workspace, "unix:uid"));
      assertEquals(CLI_UID, Files.getAttribute(workspace, "unix:gid"));
    }
    kubeletReports(pod, "127.0.0.1");
  }

  private String runnerSecret;

  /** How many CLIs the pod's runner keeps. */
  private int runnerInstances() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
        + settings.runnerPort() + "/cli")).header("Authorization", "Bearer " + runnerSecret).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    return body.split("\"instance\":", -1).length - 1;
  }

  /** Starts the built runner as the pod's container would run it, its address and files moved to this machine. */
  private static RunnerProcess startRunner(Pod pod, Path secretFile, Path workspace, Path log) throws Exception {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    assertEquals(SandboxObjects.RUNNER_SECRET_FILE, env.get("RUNNER_SECRET_FILE"));
    env.put("RUNNER_SECRET_FILE", secretFile.toString()); // where the test "mounted" it
    env.put("RUNNER_HOST", "127.0.0.1"); // tests listen on 127.0.0.1 only
    env.put("RUNNER_WORKSPACE", workspace.toString());
    // Not the pod's 1000: the runner's kill sweeps every orphan of the CLI's uid, which on this machine could be
    // someone else's.
    env.put("RUNNER_CLI_USER", CLI_UID + ":" + CLI_UID);
    RunnerProcess p = RunnerProcess.start(env, List.of(), log);
    String line = p.listening();
    assertTrue(line.startsWith("runner listening on 127.0.0.1:" + env.get("RUNNER_PORT") + ", CLI as"), line);
    if ("root".equals(System.getProperty("user.name"))) {
      assertTrue(line.endsWith("CLI as uid " + CLI_UID + " gid " + CLI_UID), line);
    }
    return p;
  }

  private void kubeletReports(Pod pod, String ip) {
    var status = new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
        .addNewCondition().withType("Ready").withStatus("True").endCondition().build();
    Pod now = client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get();
    client.pods().inNamespace(NS).resource(new PodBuilder(now).withStatus(status).build()).updateStatus();
  }

  private static <T> T await(java.util.function.Supplier<T> value) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    T v;
    while ((v = value.get()) == null) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s");
      Thread.sleep(20); // polling interval of the condition, not a stand-in for it
    }
    return v;
  }
}
