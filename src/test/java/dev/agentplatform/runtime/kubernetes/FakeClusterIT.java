package dev.agentplatform.runtime.kubernetes;

import static dev.agentplatform.testing.RuntimeTurns.finish;
import static dev.agentplatform.testing.RuntimeTurns.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.testing.FakeCluster;
import dev.agentplatform.testing.RunnerProcess;
import dev.agentplatform.testing.ScriptedModel;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link FakeCluster} under the kubernetes runtime, without Liberty: a turn of the real CLI through the runner the
 * fake kubelet started for the agent's pod (its own port, the claim's directory as the workspace, the pod's secret as
 * a 0400 file), a pod held Pending showing as the turn's progress, a deleted pod's runner stopped, and a killed
 * runner's pod gone.
 */
@Timeout(180)
class FakeClusterIT {

  private static final String NS = "sandboxes";
  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of("Bash", "Write"));

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
  private ScriptedModel model;
  private FakeCluster cluster;
  private KubernetesRuntime runtime;

  @BeforeEach
  void start() throws Exception {
    model = ScriptedModel.start(0);
    Path dir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath().resolve("fake-cluster-"
        + System.nanoTime());
    cluster = new FakeCluster(NS, dir).start();
    KubernetesSettings settings = new KubernetesSettings(NS, "gvisor", "agent:test", "500m", "1Gi", "5Gi", "",
        "agent-sandbox", 8888, cluster.workspaceMount().toString(), "agent-platform", "1.0", System.getProperty(
            "it.claude.cli.path"), "default", Duration.ofMinutes(5), 10_000_000, Map.of("ANTHROPIC_BASE_URL", model
                .baseUrl(), "ANTHROPIC_API_KEY", "sk-test-fake-cluster"), Secrets.NONE, null);
    runtime = new KubernetesRuntime(settings, new SandboxPods(cluster.client(), settings), new RunnerConnector(
        Duration.ofSeconds(10)), id -> true, scheduler, pool, 0);
    scheduler.getQueue().clear();
    assertTrue(runtime.check(true).status().available(), runtime.status().reason());
  }

  @AfterEach
  void end() {
    if (runtime != null) {
      runtime.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (model != null) {
      model.close();
    }
    pool.shutdownNow();
    scheduler.shutdownNow();
  }

  @Test
  void aTurnRunsThroughTheRunnerTheKubeletStartedAndTheVolumeOutlivesThePod() throws Exception {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("alice@example.com", "f1", "t1", "#write notes.txt kept in the claim", SETTINGS,
        null), events::add);
    List<RuntimeEvent> first = finish(events);
    assertEquals("Wrote the file.", text(first), first.toString());
    assertTrue(first.stream().anyMatch(e -> e instanceof RuntimeEvent.Preparing), "progress while pending: " + first);
    Path volume = cluster.volume(SandboxObjects.claimName("f1"));
    assertEquals("kept in the claim", Files.readString(volume.resolve("notes.txt")));
    assertEquals(FakeCluster.CLI_UID, Files.getAttribute(volume.resolve("notes.txt"), "unix:uid"),
        "written by the CLI as its uid");

    Pod pod = cluster.client().pods().inNamespace(NS).withName("agent-f1").get();
    int port = pod.getSpec().getContainers().get(0).getPorts().get(0).getContainerPort();
    assertNotEquals(8888, port, "the kubelet gave the pod a port of its own");
    assertEquals("127.0.0.1", pod.getStatus().getPodIP());
    RunnerProcess runner = cluster.runner("f1", Duration.ofSeconds(5));
    assertTrue(runner.listening().startsWith("runner listening on 127.0.0.1:" + port + ", CLI as uid "
        + FakeCluster.CLI_UID),
        runner.listening());

    // The pod goes (as when idle): its runner is stopped; the next pod gets the same volume.
    runtime.release("f1");
    runtime.deleteWorkspace("alice@example.com", "f1");
    assertTrue(runner.process().onExit().get(30, TimeUnit.SECONDS) != null);
    assertNull(cluster.client().pods().inNamespace(NS).withName("agent-f1").get());
  }

  @Test
  void aPodHeldPendingShowsItsReasonUntilReleased() throws Exception {
    cluster.holdPending("f2", FakeCluster.UNSCHEDULABLE, "0/3 nodes are available: 3 Insufficient cpu");
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("alice@example.com", "f2", "t1", "hello", SETTINGS, null), events::add);
    List<RuntimeEvent> seen = new ArrayList<>();
    String want = "starting a sandbox: waiting for a node (0/3 nodes are available: 3 Insufficient cpu)";
    while (seen.stream().noneMatch(e -> e instanceof RuntimeEvent.Preparing p && p.detail().equals(want))) {
      RuntimeEvent e = events.poll(30, TimeUnit.SECONDS);
      assertNotNull(e, "the held reason shown within 30 s: " + seen);
      assertTrue(!e.isFinal(), "the turn waits while the pod is held: " + seen + " " + e);
      seen.add(e);
    }
    cluster.release("f2");
    List<RuntimeEvent> rest = finish(events);
    assertEquals("Echo: hello", text(rest), rest.toString());
  }

  @Test
  void aKilledRunnerTakesItsPodWithIt() throws Exception {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("alice@example.com", "f3", "t1", "hello", SETTINGS, null), events::add);
    finish(events);
    RunnerProcess runner = cluster.runner("f3", Duration.ofSeconds(5));
    List<ProcessHandle> tree = runner.process().descendants().toList();
    assertTrue(tree.stream().anyMatch(ProcessHandle::isAlive), "the warm CLI runs under the runner");

    cluster.killRunner("f3");

    assertTrue(!runner.process().isAlive());
    for (ProcessHandle h : tree) {
      assertNotNull(h.onExit().get(30, TimeUnit.SECONDS));
    }
    assertNull(cluster.client().pods().inNamespace(NS).withName("agent-f3").get(), "the pod vanished");
  }
}
