package dev.agentplatform.runtime.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.TopContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.testing.MockReviews;
import dev.agentplatform.testing.ScriptedModel;
import dev.agentplatform.testing.TestDocker;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.ServerSocket;
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
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The data path for real, with the agent image as the pod: fabric8's mock API server in CRUD mode plays the API server,
 * and the test plays the kubelet by running the agent image (containers/agent/build-local's, on the tests' Docker
 * Engine) as the pod's container, everything taken from the pod the runtime made: its command, its environment (with
 * {@code RUNNER_HOST=127.0.0.1}: host networking, as every test container here), uid 0 with all capabilities dropped
 * but those it adds, a read-only root, no new privileges, a tmpfs at its {@code /tmp} mount, a test directory bind
 * mounted at its workspace mount (the "PVC", root's as a new volume's root is) and the pod's Secret as a root-owned
 * 0400 file in a read-only bind mount at its secret mount. Once the runner answers the pod's readiness probe, the test
 * reports the pod running and ready at 127.0.0.1, and the turns run the real CLI in the container against the
 * scripted model, through {@link RunnerConnector}.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(180)
class SandboxImageIT {

  private static final String NS = "sandboxes";
  private static final String OWNER = "alice@example.com";
  private static final String AGENT = "img1";
  private static final int CLI_UID = 1000;
  private static final Duration TURN = Duration.ofSeconds(90);
  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of("Bash", "Write"));
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  KubernetesMockServer server;
  KubernetesClient client;

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
  private final List<String> containers = new ArrayList<>();
  private TestDocker docker;
  private ScriptedModel model;
  private KubernetesRuntime runtime;
  private KubernetesSettings settings;
  private Path dir;
  private Path workspace;
  private int port;
  /** The pod's secret, as the runtime put it in the pod's Secret. */
  private String secret;
  private String container;
  private int turns;
  /** The agent's first turn, which started its pod. */
  private Turn first;

  @BeforeEach
  void start() throws Exception {
    MockReviews.allowEvery(server, client);
    docker = new TestDocker();
    model = ScriptedModel.start(0);
    dir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath().resolve("sandbox-image-"
        + System.nanoTime());
    // The "PVC": root's and 0755, as a new volume's root is; the runner gives it to the CLI's uid.
    workspace = Files.createDirectories(dir.resolve("workspace"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    settings = new KubernetesSettings(NS, "gvisor", TestDocker.image(), "500m", "1Gi", "5Gi", "",
        "agent-sandbox", port, SandboxObjects.WORKSPACE, "agent-platform", "1.0", "claude", "default", Duration
            .ofMinutes(5), 10_000_000, Map.of("ANTHROPIC_BASE_URL", model.baseUrl(), "ANTHROPIC_API_KEY",
                "sk-test-sandbox-image"), Secrets.NONE, null);
    runtime = new KubernetesRuntime(settings, new SandboxPods(client, settings), new RunnerConnector(Duration
        .ofSeconds(20)), id -> true, scheduler, pool, 0);
    scheduler.getQueue().clear();
    assertTrue(runtime.check(true).status().available(), runtime.status().reason());
  }

  @AfterEach
  void end() throws Exception {
    if (runtime != null) {
      runtime.close();
    }
    for (String id : containers) {
      try {
        docker.client.stopContainerCmd(id).withTimeout(10).exec();
      } catch (RuntimeException e) {
        // already stopped
      }
      try {
        docker.client.removeContainerCmd(id).withForce(true).exec();
      } catch (NotFoundException e) {
        // already gone
      }
    }
    if (model != null) {
      model.close();
    }
    if (docker != null) {
      docker.close();
    }
    pool.shutdownNow();
    scheduler.shutdownNow();
  }

  @Test
  void aTurnStreamsTheRealClisTextItsWriteLandsInTheVolumeAsTheAgentUserAndAFollowUpTakesTheWarmCli()
      throws Exception {
    Turn first = firstTurn("hello through the image");
    assertEquals("Echo: hello through the image", first.text(), first.events().toString());
    assertTrue(first.deltas() >= 2, "the text came in deltas, as it was streamed: " + first.events());
    assertEquals(CLI_UID, Files.getAttribute(workspace, "unix:uid"), "the runner gave the volume's root to the CLI");
    assertEquals(CLI_UID, Files.getAttribute(workspace, "unix:gid"));
    List<Proc> clis = clis();
    assertEquals(1, clis.size(), "one CLI in the pod: " + top());
    assertEquals(CLI_UID, clis.get(0).uid(), "the CLI runs as the agent user, not as root: " + top());

    Turn second = turn("#write notes.txt written in the pod");
    assertEquals("Wrote the file.", second.text(), second.events().toString());
    Path notes = workspace.resolve("notes.txt");
    assertEquals("written in the pod", Files.readString(notes), "the Write landed in the bind-mounted volume");
    assertEquals(CLI_UID, Files.getAttribute(notes, "unix:uid"), "written by the CLI as the agent user");
    assertEquals(CLI_UID, Files.getAttribute(notes, "unix:gid"));

    Turn third = turn("#bash id -u; id -G; grep -E '^Cap(Prm|Eff)' /proc/self/status");
    String output = third.toolOutput();
    assertTrue(output.startsWith(CLI_UID + "\n" + CLI_UID + "\n"), "uid and only gid 1000:\n" + output);
    assertTrue(output.contains("CapPrm:\t0000000000000000") && output.contains("CapEff:\t0000000000000000"),
        "no capability:\n" + output);
    assertEquals(clis, clis(), "the follow-ups ran on the same, warm CLI");
  }

  @Test
  void anInterruptKillsEveryProcessTheCliStartedInThePod() throws Exception {
    firstTurn("hello before the interrupt");
    String marker = Long.toString(3000 + new SecureRandom().nextInt(1000));
    Events events = new Events();
    // (The CLI refuses a bare "sleep 300" as a tool call.)
    RunningTurn running = runtime.start(request("#bash tail -f /dev/null -s " + marker), events);
    awaitTrue(() -> top().stream().anyMatch(p -> p.args().endsWith("tail -f /dev/null -s " + marker)) || events
        .ended(), "the Bash tool started tail in the pod");
    assertFalse(events.ended(), "the turn still ran: " + events.queue);
    List<Proc> agents = top().stream().filter(p -> p.uid() == CLI_UID).toList();
    assertTrue(agents.size() >= 2 && agents.stream().anyMatch(p -> p.args().contains("tail -f")),
        "the CLI and tail run as the agent user: " + agents);
    assertTrue(top().stream().noneMatch(p -> p.uid() == 0 && !p.args().contains("runner.jar") && !p.args()
        .startsWith("/usr/bin/tini")), "nothing but tini and the runner runs as root: " + top());

    running.stop();
    RuntimeEvent last = events.last();
    assertInstanceOf(RuntimeEvent.Stopped.class, last);
    awaitTrue(() -> top().stream().noneMatch(p -> p.uid() == CLI_UID), "no process of the agent user is left");
    List<Proc> left = top();
    assertEquals(2, left.size(), "only tini and the runner are left: " + left);
    assertTrue(left.stream().allMatch(p -> p.uid() == 0) && left.stream().anyMatch(p -> p.args().contains(
        "runner.jar")) && left.stream().anyMatch(p -> p.args().startsWith("/usr/bin/tini")), left.toString());
  }

  @Test
  void theRunnerRefusesARequestWithoutThePodsSecret() throws Exception {
    firstTurn("hello before the strangers");
    HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(runnerUri("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode());
    assertEquals("{\"status\":\"UP\"}", health.body());
    String start = "{\"argv\":[\"/bin/bash\",\"-c\",\"id\"],\"env\":{},\"cwd\":\"/workspace\"}";
    for (String auth : new String[] {null, "Bearer wrong", "Bearer " + secret + "x", secret, "Basic " + secret}) {
      for (HttpRequest.Builder b : List.of(HttpRequest.newBuilder(runnerUri("/cli")).POST(HttpRequest.BodyPublishers
          .ofString(start)), HttpRequest.newBuilder(runnerUri("/cli/" + "0".repeat(32) + "/stdout?offset=0")))) {
        if (auth != null) {
          b.header("Authorization", auth);
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode(), auth + ": " + r.body());
        assertTrue(r.body().startsWith("{\"error\":\"unauthorized\""), r.body());
      }
    }
    assertEquals(1, clis().size(), "nothing was started: " + top());
  }

  @Test
  void theAgentsOwnProcessesCannotReadThePodsSecret() throws Exception {
    firstTurn("hello before the snooping");
    // The runner is the first process up the Bash tool's parents whose command names runner.jar (pid 1 is tini).
    Turn turn = turn("#bash id -u; cat " + SandboxObjects.RUNNER_SECRET_FILE + "; env; cat /proc/1/cmdline; echo;"
        + " cat /proc/1/environ; ls /proc/1/fd; ls /proc/1/root; p=$$; while [ \"$p\" -gt 1 ]; do"
        + " p=$(awk '{print $4}' /proc/$p/stat); tr '\\0' ' ' < /proc/$p/cmdline | grep -q runner.jar && break; done;"
        + " echo runner=$p; cat /proc/$p/environ; ls /proc/$p/fd; ls /proc/$p/root; echo done");
    String output = turn.toolOutput();
    assertTrue(output.contains("done"), output);
    assertTrue(output.startsWith(CLI_UID + "\n"), "the CLI's Bash runs as the agent user, not as root:\n" + output);
    assertTrue(output.contains("/usr/bin/tini"), "pid 1 is tini:\n" + output);
    java.util.regex.Matcher found = java.util.regex.Pattern.compile("runner=(\\d+)").matcher(output);
    assertTrue(found.find() && Long.parseLong(found.group(1)) > 1, "the runner's pid was found:\n" + output);
    String runnerPid = found.group(1);
    for (String denied : List.of(SandboxObjects.RUNNER_SECRET_FILE, "/proc/1/environ", "/proc/1/fd",
        "/proc/1/root", "/proc/" + runnerPid + "/environ", "/proc/" + runnerPid + "/fd", "/proc/" + runnerPid
            + "/root")) {
      assertTrue(output.lines().anyMatch(l -> l.contains(denied) && l.contains("Permission denied")),
          "reading " + denied + " was refused:\n" + output);
    }
    assertTrue(output.contains("PATH=" + SandboxObjects.PATH), "the environment the platform sent:\n" + output);
    assertFalse(output.contains("RUNNER_"), "the runner's own environment reached the CLI:\n" + output);
    for (Turn t : List.of(turn, first)) {
      assertFalse(t.events().toString().contains(secret), "the secret is nowhere in the turn: " + t.events());
    }
    assertFalse(logs().contains(secret), "nor in the runner's log");
  }

  @Test
  void aServerThatStartsAgainTakesUpTheTurnTheImagesRunnerStillRuns() throws Exception {
    firstTurn("hello before the restart");
    List<Proc> clis = clis();
    Events events = new Events();
    runtime.start(new TurnRequest(OWNER, AGENT, "turn_cut", "#slow 30 100", SETTINGS, null), events);
    awaitTrue(() -> events.queue.stream().anyMatch(RuntimeEvent.TextDelta.class::isInstance), "the turn streams");

    // The server that started the turn is gone without ending anything (as after kill -9: its runtime is not closed,
    // which would end the CLI); a new one, with a client of its own, takes the turn up from the pod's runner.
    KubernetesRuntime again = new KubernetesRuntime(settings, new SandboxPods(server.createClient(), settings),
        new RunnerConnector(Duration.ofSeconds(20)), id -> true, scheduler, pool, 0);
    try {
      Events resumed = new Events();
      assertTrue(again.reattach(new TurnRequest(OWNER, AGENT, "turn_cut", null, SETTINGS, null), resumed)
          .isPresent(), "the turn is taken up");
      Turn whole = resumed.finish();
      StringBuilder expected = new StringBuilder();
      for (int i = 1; i <= 30; i++) {
        expected.append("chunk ").append(i).append(". ");
      }
      assertEquals(expected.toString(), whole.text(), "the whole turn from its first delta, once");
      assertEquals(clis, clis(), "the same CLI in the pod, never started twice");
    } finally {
      again.close();
    }
  }

  // ---- the kubelet's part

  /** The first turn of the agent: its pod made by the runtime, started here as a container, then reported ready. */
  private Turn firstTurn(String text) throws Exception {
    Events events = new Events();
    runtime.start(request(text), events);
    Pod pod = await(() -> client.pods().inNamespace(NS).withName(SandboxObjects.podName(AGENT)).get());
    Secret podSecret = client.secrets().inNamespace(NS).withName(SandboxObjects.secretName(AGENT)).get();
    secret = new String(Base64.getDecoder().decode(podSecret.getData().get(SandboxObjects.SECRET_KEY)),
        StandardCharsets.UTF_8);
    container = run(pod);
    awaitTrue(() -> ready(), "the runner answered the pod's readiness probe; its log:\n" + logs());
    String log = logs();
    assertTrue(log.contains("runner listening on 127.0.0.1:" + port + ", CLI as uid 1000 gid 1000"), log);
    var status = new PodStatusBuilder().withPhase("Running").withPodIP("127.0.0.1")
        .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
        .addNewCondition().withType("Ready").withStatus("True").endCondition().build();
    client.pods().inNamespace(NS).resource(new PodBuilder(client.pods().inNamespace(NS).withName(pod.getMetadata()
        .getName()).get()).withStatus(status).build()).updateStatus();
    first = events.finish();
    return first;
  }

  /** Runs the pod's one container as the kubelet would, from the pod's own spec; returns the container's id. */
  private String run(Pod pod) throws Exception {
    var spec = pod.getSpec();
    assertEquals(1, spec.getContainers().size());
    Container c = spec.getContainers().get(0);
    assertEquals(TestDocker.image(), c.getImage());
    assertEquals(List.of(docker.client.inspectImageCmd(c.getImage()).exec().getConfig().getCmd()), c.getCommand(),
        "the pod names the image's own command, the runner");
    var sc = c.getSecurityContext();
    Map<String, VolumeMount> mounts = c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getName,
        m -> m));

    // The Secret volume: the key's file, root's and of the volume's defaultMode (0400), in a read-only mount.
    var secretVolume = spec.getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow()
        .getSecret();
    assertEquals(0400, secretVolume.getDefaultMode());
    Path secretDir = Files.createDirectories(dir.resolve("secret"));
    Files.setPosixFilePermissions(secretDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path secretFile = Files.writeString(secretDir.resolve(secretVolume.getItems().get(0).getPath()), secret);
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("r--------"));
    assertEquals(0, Files.getAttribute(secretFile, "unix:uid"), "the secret file is root's");
    VolumeMount secretMount = mounts.get("runner-secret");
    assertEquals(true, secretMount.getReadOnly());

    List<String> env = new ArrayList<>();
    for (EnvVar e : c.getEnv()) {
      env.add(e.getName() + "=" + e.getValue());
    }
    env.add("RUNNER_HOST=127.0.0.1"); // host networking: the runner must listen on loopback only
    long memory = Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")).longValueExact();
    HostConfig host = HostConfig.newHostConfig()
        .withNetworkMode("host")
        .withBinds(new Bind(workspace.toString(), new Volume(mounts.get("workspace").getMountPath())),
            new Bind(secretDir.toString(), new Volume(secretMount.getMountPath()),
                AccessMode.ro))
        .withTmpFs(Map.of(mounts.get("tmp").getMountPath(), "rw,nosuid,nodev,size=512m"))
        .withReadonlyRootfs(sc.getReadOnlyRootFilesystem())
        .withPrivileged(sc.getPrivileged())
        .withCapDrop(sc.getCapabilities().getDrop().stream().map(Capability::valueOf).toArray(Capability[]::new))
        .withCapAdd(sc.getCapabilities().getAdd().stream().map(Capability::valueOf).toArray(Capability[]::new))
        .withSecurityOpts(Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation()) ? List.of("no-new-privileges")
            : List.of())
        .withMemory(memory)
        .withMemorySwap(memory);
    String id = docker.client.createContainerCmd(c.getImage())
        .withName("sandbox-image-it-" + System.nanoTime())
        .withEntrypoint(c.getCommand())
        .withUser(sc.getRunAsUser() + ":" + sc.getRunAsGroup())
        .withEnv(env)
        .withHostConfig(host)
        .exec().getId();
    containers.add(id);
    docker.client.startContainerCmd(id).exec();
    return id;
  }

  private boolean ready() {
    try {
      return HTTP.send(HttpRequest.newBuilder(runnerUri("/healthz")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
    } catch (Exception e) {
      assertTrue(Boolean.TRUE.equals(docker.inspect(container).getState().getRunning()),
          "the pod's container ended; its log:\n" + logs());
      return false;
    }
  }

  private URI runnerUri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private String logs() {
    StringBuilder out = new StringBuilder();
    try {
      docker.client.logContainerCmd(container).withStdOut(true).withStdErr(true).exec(
          new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
              synchronized (out) {
                out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
              }
            }
          }).awaitCompletion(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (out) {
      return out.toString();
    }
  }

  /** A process in the pod's container, as {@code docker top} sees it from the host. */
  private record Proc(long pid, int uid, String args) {
  }

  private List<Proc> top() {
    TopContainerResponse top = docker.client.topContainerCmd(container).withPsArgs("-eo pid,uid,args").exec();
    List<String> titles = Arrays.asList(top.getTitles());
    int pid = titles.indexOf("PID");
    int uid = titles.indexOf("UID");
    int args = titles.indexOf("COMMAND");
    List<Proc> out = new ArrayList<>();
    for (String[] p : top.getProcesses()) {
      out.add(new Proc(Long.parseLong(p[pid].trim()), Integer.parseInt(p[uid].trim()), p[args]));
    }
    return out;
  }

  /** The agent's CLI processes in the pod. */
  private List<Proc> clis() {
    return top().stream().filter(p -> p.args().contains("--input-format stream-json")).toList();
  }

  // ---- turns

  private TurnRequest request(String text) {
    return new TurnRequest(OWNER, AGENT, "t" + ++turns, text, SETTINGS, null);
  }

  private Turn turn(String text) throws InterruptedException {
    Events events = new Events();
    runtime.start(request(text), events);
    return events.finish();
  }

  /** A turn's events, taken on the test thread. */
  private static final class Events implements dev.agentplatform.runtime.TurnListener {
    private final BlockingQueue<RuntimeEvent> queue = new LinkedBlockingQueue<>();

    @Override
    public void onEvent(RuntimeEvent event) {
      queue.add(event);
    }

    boolean ended() {
      return queue.stream().anyMatch(RuntimeEvent::isFinal);
    }

    /** The events up to the final one, which must be Completed. */
    Turn finish() throws InterruptedException {
      List<RuntimeEvent> all = new ArrayList<>();
      RuntimeEvent e;
      do {
        e = queue.poll(TURN.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(e, "the turn went on within " + TURN + ": " + all);
        all.add(e);
      } while (!e.isFinal());
      assertInstanceOf(RuntimeEvent.Completed.class, e, "the turn completed: " + all);
      return new Turn(all);
    }

    /** The final event. */
    RuntimeEvent last() throws InterruptedException {
      RuntimeEvent e;
      do {
        e = queue.poll(TURN.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(e, "the turn ended within " + TURN);
      } while (!e.isFinal());
      return e;
    }
  }

  /** What one turn brought. */
  private record Turn(List<RuntimeEvent> events) {
    String text() {
      return events.stream().filter(e -> e instanceof RuntimeEvent.TextDelta).map(e -> ((RuntimeEvent.TextDelta) e)
          .text()).collect(Collectors.joining());
    }

    long deltas() {
      return events.stream().filter(e -> e instanceof RuntimeEvent.TextDelta).count();
    }

    String toolOutput() {
      return events.stream().filter(e -> e instanceof RuntimeEvent.ToolOutput).map(e -> ((RuntimeEvent.ToolOutput) e)
          .output()).findFirst().orElse("");
    }
  }

  private static <T> T await(Supplier<T> value) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    T v;
    while ((v = value.get()) == null) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s");
      Thread.sleep(20); // polling interval of the condition, not a stand-in for it
    }
    return v;
  }

  private static void awaitTrue(Supplier<Boolean> condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.get()) {
      assertTrue(System.nanoTime() < deadline, what + ", within 60 s");
      Thread.sleep(50); // polling interval of the condition, not a stand-in for it
    }
  }

}
