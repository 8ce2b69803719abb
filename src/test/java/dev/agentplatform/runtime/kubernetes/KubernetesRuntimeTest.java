package dev.agentplatform.runtime.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnRequest;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kubernetes runtime against fabric8's mock API server in CRUD mode, the test playing the kubelet (it writes
 * the pods' status and IP) and the runner (a {@link PodConnector} that records its calls and hands back an
 * in-memory CLI).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesRuntimeTest {

  static final String NS = "sandboxes";
  private static final String REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  private static final String RULES = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of());

  KubernetesMockServer server;
  KubernetesClient client;

  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
  private KubernetesRuntime runtime;
  /** What the start-up clean-up takes for now. */
  private Clock clock = Clock.systemUTC();

  /** What the runner was asked: where, with which secret, to start what. */
  record Call(PodConnector.Runner runner, PodConnector.Launch launch, EchoCli cli) {
  }

  static KubernetesSettings settings(String version, Duration cliIdle) {
    return new KubernetesSettings(NS, "gvisor", "registry.example/agent:2.1.328", "500m", "1Gi", "5Gi",
        "standard-rwo", "agent-sandbox", 8888, "/workspace", "agent-platform", version, "claude", "default", cliIdle,
        1_000_000,
        Map.of("ANTHROPIC_API_KEY", "sk-test"), Secrets.NONE, null);
  }

  @BeforeEach
  void reviews() {
    // The rules review lists what the Role grants, less what the test denies: the runtime's one question.
    server.expect().post().withPath(RULES).andReply(201, request -> {
      SelfSubjectRulesReview asked = client.getKubernetesSerialization().unmarshal(request.getUtf8Body(),
          SelfSubjectRulesReview.class);
      List<ResourceRule> rules = new ArrayList<>();
      SandboxPods.NEEDED.forEach((resource, verbs) -> rules.add(new ResourceRuleBuilder().withApiGroups("")
          .withResources(resource).withVerbs(verbs.stream().filter(v -> !denied.contains(v + " " + resource))
              .toList()).build()));
      return new SelfSubjectRulesReviewBuilder(asked).withNewStatus().withResourceRules(NS.equals(asked.getSpec()
          .getNamespace()) ? rules : List.of()).withIncomplete(false).endStatus().build();
    }).always();
    // The API server's authorizer: every review allowed except those the test denies.
    server.expect().post().withPath(REVIEWS).andReply(200, request -> {
      SelfSubjectAccessReview asked = client.getKubernetesSerialization().unmarshal(request.getUtf8Body(),
          SelfSubjectAccessReview.class);
      var a = asked.getSpec().getResourceAttributes();
      boolean allowed = NS.equals(a.getNamespace()) && !denied.contains(a.getVerb() + " " + a.getResource());
      return new SelfSubjectAccessReviewBuilder(asked).withNewStatus().withAllowed(allowed).endStatus().build();
    }).always();
  }

  @AfterEach
  void end() {
    if (runtime != null) {
      runtime.close();
    }
    pool.shutdownNow();
    scheduler.shutdownNow();
  }

  private KubernetesRuntime runtime(KubernetesSettings settings, PodConnector connector, Predicate<String> exists) {
    runtime = new KubernetesRuntime(settings, new SandboxPods(client, settings, clock), connector, exists, scheduler,
        pool, 0);
    // The test runs the idle check itself (reap), never the timer.
    scheduler.getQueue().clear();
    return runtime;
  }

  private PodConnector recording() {
    return (runner, launch) -> {
      EchoCli cli = new EchoCli();
      calls.add(new Call(runner, launch, cli));
      return cli;
    };
  }

  @Test
  void firstTurnMakesTheSandboxTellsWhatItWaitsForAndReachesTheRunnerOnceReady() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    assertTrue(runtime.check(true).status().available(), runtime.status().reason());
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();

    runtime.start(new TurnRequest("alice@example.com", "a1", "t1", "hello", SETTINGS, null), events::add);

    Pod pod = awaitPod("agent-a1");
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-a1-workspace").get());
    assertNotNull(client.secrets().inNamespace(NS).withName("agent-a1-runner").get());
    assertTrue(nextPreparing(events).startsWith("starting a sandbox: "));

    kubelet(pod, "Pending", null, false, "PodScheduled", "False", "0/3 nodes are available", null);
    awaitDetail(events, "starting a sandbox: waiting for a node (0/3 nodes are available)");
    kubelet(pod, "Pending", null, false, "PodScheduled", "True", null, "ContainerCreating");
    awaitDetail(events, "starting a sandbox: pulling the image");
    assertTrue(calls.isEmpty(), "the runner is not asked before the pod is ready");

    kubelet(pod, "Running", "10.8.0.7", true, "PodScheduled", "True", null, null);
    Call call = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(call, "the runner was never asked");
    assertEquals("10.8.0.7", call.runner().ip());
    assertEquals(8888, call.runner().port());
    assertEquals("agent-a1", call.runner().pod());
    assertEquals(secretOf("agent-a1-runner"), call.runner().secret());
    assertEquals(43, call.runner().secret().length(), "32 random bytes");
    assertEquals("/workspace", call.launch().workingDirectory());
    assertEquals("claude", call.launch().arguments().get(0));
    assertTrue(call.launch().arguments().containsAll(List.of("-p", "--input-format", "stream-json")));
    assertFalse(call.launch().arguments().contains("--resume"));
    assertEquals("/workspace", call.launch().environment().get("HOME"));
    assertEquals("sk-test", call.launch().environment().get("ANTHROPIC_API_KEY"));

    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);
    assertEquals(1, runtime.liveAgents());
  }

  @Test
  void anIdleSandboxLosesItsPodButKeepsItsVolumeAndTheNextTurnResumesOnIt() throws Exception {
    runtime(settings("1.0", Duration.ZERO), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("u", "a2", "t1", "one", SETTINGS, null), events::add);
    kubelet(awaitPod("agent-a2"), "Running", "10.8.0.8", true, "PodScheduled", "True", null, null);
    Call first = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(first);
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);
    String volumeUid = client.persistentVolumeClaims().inNamespace(NS).withName("agent-a2-workspace").get()
        .getMetadata().getUid();

    runtime.reap();

    assertTrue(first.cli().killed.await(10, TimeUnit.SECONDS), "the idle CLI was stopped");
    await(() -> client.pods().inNamespace(NS).withName("agent-a2").get() == null, "the idle pod deleted");
    assertNull(client.secrets().inNamespace(NS).withName("agent-a2-runner").get());
    assertEquals(volumeUid, client.persistentVolumeClaims().inNamespace(NS).withName("agent-a2-workspace").get()
        .getMetadata().getUid(), "the workspace volume stays");

    runtime.start(new TurnRequest("u", "a2", "t2", "two", SETTINGS, "s1"), events::add);
    Pod again = awaitPod("agent-a2");
    assertEquals("agent-a2-workspace", again.getSpec().getVolumes().get(0).getPersistentVolumeClaim()
        .getClaimName());
    kubelet(again, "Running", "10.8.0.9", true, "PodScheduled", "True", null, null);
    Call second = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(second, "the new pod's runner was never asked");
    assertEquals("10.8.0.9", second.runner().ip());
    assertNotEquals(first.runner().secret(), second.runner().secret(), "each pod has a secret of its own");
    List<String> args = second.launch().arguments();
    assertEquals("s1", args.get(args.indexOf("--resume") + 1));
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);
    assertEquals(volumeUid, client.persistentVolumeClaims().inNamespace(NS).withName("agent-a2-workspace").get()
        .getMetadata().getUid(), "the same volume");
  }

  @Test
  void aWarmSandboxTakesTheNextTurnWithoutANewPod() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("u", "a3", "t1", "one", SETTINGS, null), events::add);
    Pod pod = awaitPod("agent-a3");
    kubelet(pod, "Running", "10.8.0.10", true, "PodScheduled", "True", null, null);
    assertNotNull(calls.poll(10, TimeUnit.SECONDS));
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);

    runtime.reap(); // not idle yet
    runtime.start(new TurnRequest("u", "a3", "t2", "two", SETTINGS, "s1"), events::add);

    RuntimeEvent next = events.poll(10, TimeUnit.SECONDS);
    assertTrue(next instanceof RuntimeEvent.Completed, "no progress to report: " + next);
    assertTrue(calls.isEmpty(), "the warm CLI took the turn");
    assertEquals(pod.getMetadata().getUid(), client.pods().inNamespace(NS).withName("agent-a3").get().getMetadata()
        .getUid());
  }

  @Test
  void theRunnerIsReachedAtThePortThePodDeclaresNotTheSettingsOne() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    assertTrue(runtime.check(true).status().available(), runtime.status().reason());
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("alice@example.com", "a9", "t1", "hello", SETTINGS, null), events::add);
    Pod pod = awaitPod("agent-a9");
    assertEquals(8888, pod.getSpec().getContainers().get(0).getPorts().get(0).getContainerPort(), "made from settings");

    // A pod whose runner listens elsewhere (made with another SANDBOX_RUNNER_PORT, or a test's kubelet on one host).
    Pod moved = new PodBuilder(pod).editSpec().editFirstContainer().editFirstPort().withContainerPort(40123)
        .endPort().endContainer().endSpec().build();
    client.pods().inNamespace(NS).resource(moved).update();
    kubelet(pod, "Running", "10.8.0.14", true, "PodScheduled", "True", null, null);

    Call call = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(call, "the runner was never asked");
    assertEquals(40123, call.runner().port());
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);
  }

  @Test
  void aTurnStoppedWhileItsPodIsPendingEndsAtOnce() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    RunningTurn turn = runtime.start(new TurnRequest("u", "a4", "t1", "one", SETTINGS, null), events::add);
    Pod pod = awaitPod("agent-a4");

    turn.stop();

    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Stopped);
    kubelet(pod, "Running", "10.8.0.11", true, "PodScheduled", "True", null, null);
    assertNull(calls.poll(300, TimeUnit.MILLISECONDS), "a stopped turn starts no CLI");
  }

  @Test
  void aPodLeftByAnEarlierServerIsTakenOverWithItsSecret() throws Exception {
    SandboxObjects objects = new SandboxObjects(settings("1.0", Duration.ZERO));
    client.persistentVolumeClaims().inNamespace(NS).resource(objects.claim("u", "a7")).create();
    client.secrets().inNamespace(NS).resource(objects.secret("u", "a7", "kept-secret")).create();
    Pod left = client.pods().inNamespace(NS).resource(objects.pod("u", "a7")).create();
    kubelet(left, "Running", "10.8.0.13", true, "PodScheduled", "True", null, null);
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();

    runtime.start(new TurnRequest("u", "a7", "t1", "one", SETTINGS, "s1"), events::add);

    Call call = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(call, "the runner of the running pod was asked");
    assertEquals("10.8.0.13", call.runner().ip());
    assertEquals("kept-secret", call.runner().secret());
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);
    assertEquals(left.getMetadata().getUid(), client.pods().inNamespace(NS).withName("agent-a7").get().getMetadata()
        .getUid(), "the same pod");
  }

  @Test
  void aPodLeftByAnEarlierServerThatNobodyNeedsIsDeletedOnceIdleItsVolumeKept() {
    SandboxObjects objects = new SandboxObjects(settings("1.0", Duration.ZERO));
    client.persistentVolumeClaims().inNamespace(NS).resource(objects.claim("u", "a9")).create();
    client.secrets().inNamespace(NS).resource(objects.secret("u", "a9", "kept-secret")).create();
    client.pods().inNamespace(NS).resource(objects.pod("u", "a9")).create();
    runtime(settings("1.0", Duration.ZERO), recording(), id -> true);
    runtime.check(true);

    // The first check (maybe the constructor's, on the pool) notes the pod; the idle check then removes it.
    await(() -> {
      runtime.reap();
      return client.pods().inNamespace(NS).withName("agent-a9").get() == null;
    }, "the left-over pod deleted");
    assertNull(client.secrets().inNamespace(NS).withName("agent-a9-runner").get());
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-a9-workspace").get());
  }

  @Test
  void aPodThatEndsBeforeItsRunnerIsReadyFailsTheTurnSayingWhy() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("u", "a8", "t1", "one", SETTINGS, null), events::add);
    Pod pod = awaitPod("agent-a8");
    Pod failed = new PodBuilder(client.pods().inNamespace(NS).withName("agent-a8").get()).withNewStatus()
        .withPhase("Failed").withReason("Evicted").withMessage("the node was low on memory").endStatus().build();

    client.pods().inNamespace(NS).resource(failed).updateStatus();

    RuntimeEvent end = awaitFinal(events);
    assertTrue(end instanceof RuntimeEvent.Failed f && f.reason().equals(
        "starting a sandbox: the pod ended (Evicted: the node was low on memory)"), String.valueOf(end));
    assertTrue(calls.isEmpty());
    assertNotNull(pod);
    // The next turn makes a new pod rather than waiting on the one that ended.
    runtime.reap();
    await(() -> client.pods().inNamespace(NS).withName("agent-a8").get() == null, "the ended pod removed");
  }

  @Test
  void deletingAnAgentRemovesItsPodVolumeAndSecret() throws Exception {
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);
    runtime.check(true);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    runtime.start(new TurnRequest("u", "a5", "t1", "one", SETTINGS, null), events::add);
    kubelet(awaitPod("agent-a5"), "Running", "10.8.0.12", true, "PodScheduled", "True", null, null);
    Call call = calls.poll(10, TimeUnit.SECONDS);
    assertNotNull(call);
    assertTrue(awaitFinal(events) instanceof RuntimeEvent.Completed);

    runtime.deleteWorkspace("u", "a5");

    assertTrue(call.cli().killed.await(10, TimeUnit.SECONDS));
    assertNull(client.pods().inNamespace(NS).withName("agent-a5").get());
    assertNull(client.secrets().inNamespace(NS).withName("agent-a5-runner").get());
    assertNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-a5-workspace").get());
    assertEquals(0, runtime.liveAgents());
  }

  @Test
  void startUpRemovesTheSandboxesOfDeletedAgentsAndThePodsOfOtherVersions() {
    SandboxObjects old = new SandboxObjects(settings("0.9", Duration.ZERO));
    SandboxObjects current = new SandboxObjects(settings("1.0", Duration.ZERO));
    for (SandboxObjects o : List.of(old)) {
      client.pods().inNamespace(NS).resource(o.pod("u", "kept")).create();
      client.secrets().inNamespace(NS).resource(o.secret("u", "kept", "s")).create();
      client.persistentVolumeClaims().inNamespace(NS).resource(o.claim("u", "kept")).create();
    }
    client.pods().inNamespace(NS).resource(current.pod("u", "gone")).create();
    client.secrets().inNamespace(NS).resource(current.secret("u", "gone", "s")).create();
    client.persistentVolumeClaims().inNamespace(NS).resource(current.claim("u", "gone")).create();
    client.pods().inNamespace(NS).resource(current.pod("u", "live")).create();
    client.persistentVolumeClaims().inNamespace(NS).resource(current.claim("u", "live")).create();
    Pod foreign = new PodBuilder(current.pod("u", "other")).editMetadata().addToLabels(
        SandboxObjects.LABEL_PLATFORM, "another-platform").addToLabels(SandboxObjects.LABEL_MANAGED_BY,
            "another-platform").endMetadata().build();
    client.pods().inNamespace(NS).resource(foreign).create();
    // The deleted agent's objects are past the grace period (SandboxCleanUpTest: not before).
    clock = Clock.offset(Clock.systemUTC(), SandboxPods.CLEAN_UP_GRACE.plusMinutes(1));

    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), Set.of("kept", "live")::contains);
    runtime.check(true); // the clean-up runs once, in the first check that finds the permissions (maybe on the pool)

    await(() -> client.pods().inNamespace(NS).withName("agent-kept").get() == null, "a pod of another version");
    await(() -> client.secrets().inNamespace(NS).withName("agent-kept-runner").get() == null, "its secret");
    await(() -> client.pods().inNamespace(NS).withName("agent-gone").get() == null, "a deleted agent's pod");
    await(() -> client.secrets().inNamespace(NS).withName("agent-gone-runner").get() == null, "its secret");
    await(() -> client.persistentVolumeClaims().inNamespace(NS).withName("agent-gone-workspace").get() == null,
        "its volume");
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-kept-workspace").get(),
        "an existing agent's workspace stays");
    assertNotNull(client.pods().inNamespace(NS).withName("agent-live").get(), "a live agent's pod of this version");
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-live-workspace").get());
    assertNotNull(client.pods().inNamespace(NS).withName("agent-other").get(), "another platform's pod");
  }

  @Test
  void aMissingPermissionMakesReadinessDownAndSendUnavailableNamingIt() {
    denied.add("delete persistentvolumeclaims");
    runtime(settings("1.0", Duration.ofMinutes(5)), recording(), id -> true);

    RuntimeStatus status = runtime.check(true).status();

    assertFalse(status.available());
    assertTrue(status.reason().contains("may not delete persistentvolumeclaims in namespace sandboxes"), status
        .reason());
    PlatformException e = assertThrows(PlatformException.class, () -> runtime.start(new TurnRequest("u", "a6", "t1",
        "one", SETTINGS, null), event -> {
        }));
    assertEquals(status.reason(), e.getMessage());
    assertNull(client.pods().inNamespace(NS).withName("agent-a6").get(), "nothing made");
  }

  @Test
  void withoutARunnerClientReadinessIsDownSayingSo() {
    runtime(settings("1.0", Duration.ofMinutes(5)), null, id -> true);

    RuntimeStatus status = runtime.check(true).status();

    assertFalse(status.available());
    assertEquals(KubernetesRuntime.NO_CONNECTOR, status.reason());
  }

  // --- the test's part of the kubelet, and waiting on conditions

  /** Writes the pod's status as a kubelet would. */
  private void kubelet(Pod pod, String phase, String ip, boolean ready, String conditionType, String conditionStatus,
      String message, String waitingReason) {
    var status = new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase(phase).withPodIP(ip)
        .addNewCondition().withType(conditionType).withStatus(conditionStatus).withMessage(message)
        .withReason("False".equals(conditionStatus) ? "Unschedulable" : null).endCondition();
    if (ready) {
      status.addNewCondition().withType("Ready").withStatus("True").endCondition();
    }
    if (waitingReason != null) {
      status.addNewContainerStatus().withName("agent").withNewState().withNewWaiting().withReason(waitingReason)
          .endWaiting().endState().endContainerStatus();
    }
    Pod now = client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get();
    client.pods().inNamespace(NS).resource(new PodBuilder(now).withStatus(status.build()).build()).updateStatus();
  }

  private Pod awaitPod(String name) {
    await(() -> client.pods().inNamespace(NS).withName(name).get() != null, "pod " + name + " made");
    return client.pods().inNamespace(NS).withName(name).get();
  }

  private String secretOf(String name) {
    String data = client.secrets().inNamespace(NS).withName(name).get().getData().get("secret");
    return new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
  }

  private static String nextPreparing(BlockingQueue<RuntimeEvent> events) throws InterruptedException {
    RuntimeEvent e = events.poll(10, TimeUnit.SECONDS);
    assertTrue(e instanceof RuntimeEvent.Preparing, "expected progress, got " + e);
    return ((RuntimeEvent.Preparing) e).detail();
  }

  private static void awaitDetail(BlockingQueue<RuntimeEvent> events, String detail) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String last = null;
    while (System.nanoTime() < deadline) {
      RuntimeEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      assertTrue(e == null || e instanceof RuntimeEvent.Preparing, "expected progress, got " + e);
      if (e != null && detail.equals(last = ((RuntimeEvent.Preparing) e).detail())) {
        return;
      }
    }
    throw new AssertionError("no progress '" + detail + "' within 10 s; the last was '" + last + "'");
  }

  private static RuntimeEvent awaitFinal(BlockingQueue<RuntimeEvent> events) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      RuntimeEvent e = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (e != null && e.isFinal()) {
        return e;
      }
    }
    throw new AssertionError("the turn did not end within 10 s");
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.onSpinWait();
      try {
        Thread.sleep(20); // polling interval of the condition, not a stand-in for it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
