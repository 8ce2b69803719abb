package dev.agentplatform.testing;

import dev.agentplatform.runtime.kubernetes.SandboxObjects;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes cluster for tests and benchmarks on one machine: fabric8's mock API server in CRUD mode on 127.0.0.1,
 * and this class playing the kubelet, which runs each sandbox pod's runner (the built runner jar) as a process on
 * this host.
 *
 * <p>Use: {@code new FakeCluster(namespace, dir).start()}; start a platform with {@link #environment()} (a Liberty
 * through {@code Platform.with(...)}, its {@code KUBECONFIG} pointing at {@link #kubeconfig()}) or a runtime with
 * {@link #client()}; {@link #close()} stops every runner it started and the API server. The API server answers every
 * SelfSubjectAccessReview and SelfSubjectRulesReview as allowed; {@link #client()} is a client of it for assertions
 * ("the agent's pod, PVC and secret are gone").
 *
 * <p>The kubelet: for each new pod in the namespace it reports Pending ({@code ContainerCreating}) and then, as a real
 * one does, gives the pod its volumes: each Secret volume written to files of the volume's mode (0400) in a 0700
 * directory of the pod's, each PersistentVolumeClaim a directory that outlives the pod (the same for every pod of that
 * claim: {@link #volume}; deleted with the claim). It starts the runner with the pod's container environment, in a
 * mount namespace of its own (the host runs one runner per pod) where each claim's directory is bound at its {@code
 * mountPath}; a mount whose path does not exist on this host (the Secret's) is not bound, its path in the environment
 * is rewritten to the host directory instead. That is why the platform runs with {@code SANDBOX_WORKSPACE=}{@link
 * #workspaceMount()}, a directory that exists here. The runner listens on 127.0.0.1 at a free port, which the kubelet
 * writes into the pod (its container port named {@code runner}, which the runtime reads) before it reports the pod
 * Running and Ready at 127.0.0.1. When a pod is deleted its runner is stopped by its pid (its CLI's tree with it); a
 * runner that exits on its own makes its pod Failed. It runs the runners as root (the pod's runner is uid 0 and
 * starts the CLI as {@link #CLI_UID}, a uid of the tests' own, in place of the pod's 1000); it refuses to start otherwise.
 *
 * <p>Hooks: {@link #runner} (the runner process of an agent's pod, once it runs), {@link #holdPending} and
 * {@link #release} (a pod kept Pending with a reason, to see the progress the platform shows), {@link #killRunner}
 * (SIGKILL to the runner and its tree, and the pod vanishes). Nothing here reaches a real cluster or any address but
 * 127.0.0.1.
 */
public final class FakeCluster implements AutoCloseable {

  /**
   * The uid and gid the runners started here run the CLI as, in place of the pod's 1000: a kill sweeps every
   * orphaned process of the CLI's uid (in a pod, only the agent's), so on a shared host it must be a uid of the tests'
   * own.
   */
  public static final int CLI_UID = 64010;

  /** The reason that keeps a held pod unscheduled ("waiting for a node"); any other is a container's waiting one. */
  public static final String UNSCHEDULABLE = "Unschedulable";
  private static final Pattern LISTENING = Pattern.compile("runner listening on 127\\.0\\.0\\.1:(\\d+),");
  private static final String ANY_POD = "*";

  private final String namespace;
  private final Path dir;
  private final Map<String, PodRun> runs = new ConcurrentHashMap<>();
  private final Map<String, PodRun> lastOfClaim = new ConcurrentHashMap<>();
  private final Map<String, Hold> holds = new ConcurrentHashMap<>();
  private final List<Double> startMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ExecutorService kubelet = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fake-kubelet");
    t.setDaemon(true);
    return t;
  });
  private KubernetesMockServer server;
  private KubernetesClient client;
  private SharedIndexInformer<Pod> informer;
  private SharedIndexInformer<PersistentVolumeClaim> claims;
  private Path kubeconfig;
  private volatile boolean closed;

  /**
   * @param namespace the sandbox namespace whose pods the kubelet runs (the platform's SANDBOX_NAMESPACE)
   * @param dir where the cluster keeps its kubeconfig, volumes, pods' secrets and runner logs (made if missing); not
   *     under {@code Platform}'s work directory, which its first start empties
   */
  public FakeCluster(String namespace, Path dir) {
    this.namespace = namespace;
    this.dir = dir.toAbsolutePath();
  }

  /** Starts the API server on 127.0.0.1, writes the kubeconfig and starts following the namespace's pods. */
  public FakeCluster start() throws IOException {
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("FakeCluster runs each pod's runner as root in a mount namespace of its own"
          + " (unshare, mount --bind), as the pod runs it as uid 0: run the tests as root");
    }
    Files.createDirectories(dir.resolve("volumes"));
    Files.createDirectories(dir.resolve("pods"));
    Files.createDirectories(workspaceMount());
    // The CLI, uid CLI_UID, must get through to the volume bound under here.
    for (Path p = workspaceMount(); p != null && p.startsWith(dir); p = p.getParent()) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
    client = server.createClient();
    MockReviews.allowEvery(server, client);
    kubeconfig = Files.writeString(dir.resolve("kubeconfig"), String.join("\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: fake",
        "  cluster:",
        "    server: " + apiServer(),
        "contexts:",
        "- name: fake",
        "  context:",
        "    cluster: fake",
        "    user: fake",
        "    namespace: " + namespace,
        "current-context: fake",
        "users:",
        "- name: fake",
        "  user:",
        "    token: fake-cluster-token",
        ""));
    informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<Pod>() {
      @Override
      public void onAdd(Pod pod) {
        admit(pod);
      }

      @Override
      public void onUpdate(Pod old, Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
          stop(pod.getMetadata().getUid(), "deleted");
        }
      }

      @Override
      public void onDelete(Pod pod, boolean unknownFinalState) {
        stop(pod.getMetadata().getUid(), "deleted");
      }
    });
    // A deleted claim's volume goes with it (the Delete reclaim policy), once its last pod let go of it.
    claims = client.persistentVolumeClaims().inNamespace(namespace).inform(
        new ResourceEventHandler<PersistentVolumeClaim>() {
          @Override
          public void onAdd(PersistentVolumeClaim claim) {
          }

          @Override
          public void onUpdate(PersistentVolumeClaim old, PersistentVolumeClaim claim) {
          }

          @Override
          public void onDelete(PersistentVolumeClaim claim, boolean unknownFinalState) {
            String name = claim.getMetadata().getName();
            kubelet.execute(() -> reclaim(name));
          }
        });
    return this;
  }

  /** The API server's address, {@code http://127.0.0.1:PORT}. */
  public String apiServer() {
    return "http://127.0.0.1:" + server.getPort();
  }

  /** The kubeconfig file that points at the API server (context {@code fake}, the sandbox namespace). */
  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The directory every pod's workspace volume is bound at in its runner's mount namespace: SANDBOX_WORKSPACE. */
  public Path workspaceMount() {
    return dir.resolve("mnt").resolve("workspace");
  }

  /**
   * What a platform needs to run its agents in this cluster: {@code AGENT_RUNTIME=kubernetes}, {@code KUBECONFIG},
   * {@code SANDBOX_NAMESPACE} and {@code SANDBOX_WORKSPACE}. {@code KUBERNETES_MASTER} and {@code NO_PROXY} too: the
   * client takes a master URL or a proxy from the environment over the kubeconfig's, and the server inherits the
   * environment of whoever starts it.
   */
  public Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("AGENT_RUNTIME", "kubernetes");
    env.put("KUBECONFIG", kubeconfig.toString());
    env.put("KUBERNETES_MASTER", apiServer());
    env.put("NO_PROXY", "127.0.0.1,localhost");
    env.put("SANDBOX_NAMESPACE", namespace);
    env.put("SANDBOX_WORKSPACE", workspaceMount().toString());
    return env;
  }

  /** A client of the API server, for a test's assertions and changes (closed by {@link #close()}). */
  public KubernetesClient client() {
    return client;
  }

  /** The mock API server, for expectations of a test's own (e.g. a review that denies). */
  public KubernetesMockServer server() {
    return server;
  }

  /** The directory that backs the PersistentVolumeClaim {@code claimName} (kept across its pods). */
  public Path volume(String claimName) {
    return dir.resolve("volumes").resolve(claimName);
  }

  /**
   * How long each pod that ran took from the kubelet seeing it to reporting it Ready, in milliseconds (a held pod's
   * hold included): this host's part of a pod's start, chiefly the runner's JVM start.
   */
  public List<Double> podStartMillis() {
    return List.copyOf(startMillis);
  }

  /** The runner of the agent's current pod, waiting up to {@code timeout} for it to run. */
  public RunnerProcess runner(String agentId, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      PodRun run = current(agentId);
      if (run != null && run.started.isDone() && !run.started.isCompletedExceptionally()) {
        return run.started.join();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no runner of agent " + agentId + "'s pod within " + timeout + (run == null ? ""
            : " (its pod " + run.name + " is " + run.state + ")"));
      }
      Thread.sleep(20); // polling interval of the condition, not a stand-in for it
    }
  }

  /**
   * Keeps the agent's next pod (or its pod now, while the kubelet has not started its runner) Pending: with reason
   * {@link #UNSCHEDULABLE}, unscheduled with {@code message} as the scheduler's; with any other reason (e.g.
   * {@code ErrImagePull}), scheduled with its container waiting for that reason and message. Until {@link #release}.
   * A null {@code agentId} holds every new pod (an agent made by the platform warms its CLI at once: its pod is made
   * before a test could name it).
   */
  public void holdPending(String agentId, String reason, String message) {
    Hold h = new Hold(reason, message, new CompletableFuture<>());
    holds.put(agentId == null ? ANY_POD : SandboxObjects.podName(agentId), h);
  }

  /** Lets the agent's held pod (null: the pods held by {@code holdPending(null, ...)}) go on to run. */
  public void release(String agentId) {
    Hold h = holds.remove(agentId == null ? ANY_POD : SandboxObjects.podName(agentId));
    if (h != null) {
      h.released.complete(null);
    }
  }

  /**
   * Kills the runner of the agent's pod and its process tree at once (SIGKILL), as a lost node would, and deletes the
   * pod without a grace period: the pod vanishes. Returns once the runner is dead and the pod gone.
   */
  public void killRunner(String agentId) throws Exception {
    PodRun run = current(agentId);
    if (run == null || !run.started.isDone() || run.started.isCompletedExceptionally()) {
      throw new IllegalStateException("agent " + agentId + " has no running runner");
    }
    Process p = run.started.join().process();
    run.killed = true;
    List<ProcessHandle> tree = p.descendants().toList();
    p.destroyForcibly();
    tree.forEach(ProcessHandle::destroyForcibly);
    p.waitFor(30, TimeUnit.SECONDS);
    client.pods().inNamespace(namespace).withName(run.name).withGracePeriod(0).delete();
    client.pods().inNamespace(namespace).withName(run.name).waitUntilCondition(java.util.Objects::isNull, 30,
        TimeUnit.SECONDS);
  }

  /** Stops every runner it started (by pid), the kubelet and the API server. */
  @Override
  public void close() {
    closed = true;
    holds.values().forEach(h -> h.released.complete(null));
    if (claims != null) {
      claims.close();
    }
    if (informer != null) {
      informer.close();
    }
    for (PodRun run : List.copyOf(runs.values())) {
      run.stop();
    }
    kubelet.shutdownNow();
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.destroy();
    }
  }

  // --- the API server's authorizer

  // --- the kubelet

  private PodRun current(String agentId) {
    String name = SandboxObjects.podName(agentId);
    return runs.values().stream().filter(r -> r.name.equals(name) && !r.stopping).findFirst().orElse(null);
  }

  private void admit(Pod pod) {
    String uid = pod.getMetadata().getUid();
    if (closed || uid == null || runs.containsKey(uid)) {
      return;
    }
    PodRun run = new PodRun(pod);
    runs.put(uid, run);
    kubelet.execute(() -> {
      try {
        run.started.complete(runPod(run));
      } catch (Throwable e) {
        run.state = "failed to start: " + e.getMessage();
        run.started.completeExceptionally(e);
        report(run, failed("StartError", e.getMessage()));
      }
    });
  }

  /** What the kubelet does for a new pod, up to its runner answering. */
  private RunnerProcess runPod(PodRun run) throws Exception {
    Hold hold = holds.containsKey(run.name) ? holds.get(run.name) : holds.get(ANY_POD);
    if (hold != null) {
      run.state = "held Pending (" + hold.reason + ")";
      report(run, pending(run.pod.getSpec().getContainers().get(0).getName(), hold.reason, hold.message));
      hold.released.get();
      if (closed) {
        throw new IllegalStateException("the cluster closed");
      }
    }
    run.state = "ContainerCreating";
    Pod pod = run.pod;
    Container container = pod.getSpec().getContainers().get(0);
    report(run, pending(container.getName(), "ContainerCreating", null));
    Path podDir = Files.createDirectories(dir.resolve("pods").resolve(run.name + "-" + run.uid));
    Files.setPosixFilePermissions(podDir, PosixFilePermissions.fromString("rwx------"));

    // The volumes: a claim's directory is bound at its mountPath when that path exists here; any other volume's
    // path (the Secret's) is rewritten in the environment to where it lies on this host.
    Map<String, Path> volumes = new HashMap<>();
    List<String> binds = new ArrayList<>();
    for (Volume v : pod.getSpec().getVolumes()) {
      if (v.getSecret() != null) {
        volumes.put(v.getName(), secretVolume(podDir.resolve("secret-" + v.getName()), v.getSecret()));
      } else if (v.getPersistentVolumeClaim() != null) {
        String claim = v.getPersistentVolumeClaim().getClaimName();
        if (client.persistentVolumeClaims().inNamespace(namespace).withName(claim).get() == null) {
          throw new IllegalStateException("persistentvolumeclaim \"" + claim + "\" not found");
        }
        PodRun previous = lastOfClaim.put(claim, run);
        if (previous != null && previous != run) {
          // ReadWriteOnce: the claim's last pod lets go of it before this one gets it.
          previous.exited.get(30, TimeUnit.SECONDS);
        }
        volumes.put(v.getName(), Files.createDirectories(volume(claim)));
      }
    }
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : container.getEnv()) {
      if (e.getValueFrom() != null) {
        throw new IllegalStateException("the fake kubelet takes only literal env values, not " + e.getName());
      }
      env.put(e.getName(), e.getValue());
    }
    for (VolumeMount m : container.getVolumeMounts()) {
      Path source = volumes.get(m.getName());
      if (source == null) {
        continue; // an emptyDir: the runner and its CLI share this host's /tmp
      }
      if (Files.isDirectory(Path.of(m.getMountPath()))) {
        binds.add(source.toString());
        binds.add(m.getMountPath());
      } else {
        env.replaceAll((k, value) -> value != null && (value.equals(m.getMountPath()) || value.startsWith(m
            .getMountPath() + "/")) ? source + value.substring(m.getMountPath().length()) : value);
      }
    }
    env.put("RUNNER_HOST", "127.0.0.1");
    env.put("RUNNER_PORT", "0");
    // Not the pod's 1000: the runner's kill sweeps every orphan of the CLI's uid, which in a pod is only the agent's,
    // but on this machine could be someone else's.
    env.put("RUNNER_CLI_USER", CLI_UID + ":" + CLI_UID);

    // unshare execs sh, which binds the volumes and execs the runner: one pid throughout. No user text reaches the
    // shell: the paths are its positional arguments, never part of its script.
    List<String> prefix = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
        "while [ \"$1\" != -- ]; do mount --bind -- \"$1\" \"$2\" || exit 97; shift 2; done; shift; exec \"$@\"",
        "fake-kubelet"));
    prefix.addAll(binds);
    prefix.add("--");
    RunnerProcess runner = RunnerProcess.start(prefix, env, List.of(), podDir.resolve("runner.log"));
    runner.process().onExit().thenRun(() -> exited(run));
    if (!run.attach(runner)) {
      runner.stop();
      throw new IllegalStateException("the pod was deleted while it started");
    }
    Matcher m = LISTENING.matcher(runner.listening());
    if (!m.find()) {
      runner.stop();
      throw new IllegalStateException("the runner said " + runner.listening() + "; its log: " + podDir.resolve(
          "runner.log"));
    }
    int port = Integer.parseInt(m.group(1));

    // The pod's runner port is where this runner listens: every pod on this host has its own.
    Pod now = client.pods().inNamespace(namespace).withName(run.name).get();
    if (now == null || !run.uid.equals(now.getMetadata().getUid())) {
      runner.stop();
      throw new IllegalStateException("the pod was deleted while it started");
    }
    Pod moved = new PodBuilder(now).build();
    for (Container c : moved.getSpec().getContainers()) {
      if (c.getName().equals(container.getName())) {
        c.getPorts().stream().filter(p -> "runner".equals(p.getName())).forEach(p -> p.setContainerPort(port));
        c.getEnv().stream().filter(e -> "RUNNER_PORT".equals(e.getName())).forEach(e -> e.setValue(Integer
            .toString(port)));
      }
    }
    client.pods().inNamespace(namespace).resource(moved).update();
    run.state = "Running on 127.0.0.1:" + port;
    report(run, running(container.getName()));
    startMillis.add((System.nanoTime() - run.admitted) / 1e6);
    return runner;
  }

  /** Writes the Secret's items into a 0700 directory of the pod's, each file of the volume's mode (0400 here). */
  private Path secretVolume(Path target, SecretVolumeSource v) throws IOException {
    Secret secret = client.secrets().inNamespace(namespace).withName(v.getSecretName()).get();
    if (secret == null || secret.getData() == null) {
      throw new IllegalStateException("secret \"" + v.getSecretName() + "\" not found");
    }
    Files.createDirectories(target);
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwx------"));
    List<KeyToPath> items = v.getItems() == null || v.getItems().isEmpty() ? secret.getData().keySet().stream()
        .map(k -> new KeyToPath(k, null, k, null)).toList() : v.getItems();
    for (KeyToPath item : items) {
      String data = secret.getData().get(item.getKey());
      if (data == null) {
        throw new IllegalStateException("secret \"" + v.getSecretName() + "\" has no key " + item.getKey());
      }
      Path file = target.resolve(item.getPath());
      Files.write(file, Base64.getDecoder().decode(data));
      int mode = item.getMode() != null ? item.getMode() : v.getDefaultMode() != null ? v.getDefaultMode() : 0644;
      Files.setPosixFilePermissions(file, permissions(mode));
    }
    return target;
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.OWNER_READ};
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) {
        set.add(bits[i]);
      }
    }
    return set;
  }

  private void reclaim(String claim) {
    try {
      PodRun last = lastOfClaim.remove(claim);
      if (last != null) {
        last.exited.get(60, TimeUnit.SECONDS);
      }
      Path root = volume(claim);
      if (Files.exists(root)) {
        try (var walk = Files.walk(root)) {
          for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
    } catch (Exception e) {
      // Left on disk: a later test sees stale files only under a claim name that is never reused.
    }
  }

  private void exited(PodRun run) {
    run.exited.complete(null);
    if (run.stopping || run.killed || closed) {
      return;
    }
    // A runner that ends on its own ends its pod (restartPolicy Never).
    run.state = "Failed (the runner exited)";
    report(run, failed("Error", "the runner exited with " + run.process.process().exitValue()));
  }

  private void stop(String uid, String why) {
    PodRun run = uid == null ? null : runs.remove(uid);
    if (run != null) {
      run.state = why;
      kubelet.execute(run::stop);
    }
  }

  private void report(PodRun run, PodStatus status) {
    if (closed) {
      return;
    }
    try {
      Pod now = client.pods().inNamespace(namespace).withName(run.name).get();
      if (now != null && run.uid.equals(now.getMetadata().getUid())) {
        client.pods().inNamespace(namespace).resource(new PodBuilder(now).withStatus(status).build())
            .updateStatus();
      }
    } catch (RuntimeException e) {
      // The pod went meanwhile: nothing to report on.
    }
  }

  private static PodStatus pending(String container, String reason, String message) {
    PodStatusBuilder b = new PodStatusBuilder().withPhase("Pending");
    if (UNSCHEDULABLE.equals(reason)) {
      return b.addNewCondition().withType("PodScheduled").withStatus("False").withReason(reason).withMessage(message)
          .endCondition().build();
    }
    return b.withHostIP("127.0.0.1").withStartTime(Instant.now().toString())
        .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
        .addNewContainerStatus().withName(container).withReady(false).withNewState().withNewWaiting().withReason(reason)
        .withMessage(message).endWaiting().endState().endContainerStatus().build();
  }

  private static PodStatus running(String container) {
    String now = Instant.now().toString();
    return new PodStatusBuilder().withPhase("Running").withHostIP("127.0.0.1").withPodIP("127.0.0.1")
        .withPodIPs(new PodIP("127.0.0.1")).withStartTime(now)
        .addNewCondition().withType("PodScheduled").withStatus("True").endCondition()
        .addNewCondition().withType("Initialized").withStatus("True").endCondition()
        .addNewCondition().withType("ContainersReady").withStatus("True").endCondition()
        .addNewCondition().withType("Ready").withStatus("True").endCondition()
        .addNewContainerStatus().withName(container).withReady(true).withStarted(true).withNewState().withNewRunning()
        .withStartedAt(now).endRunning().endState().endContainerStatus().build();
  }

  private static PodStatus failed(String reason, String message) {
    return new PodStatusBuilder().withPhase("Failed").withReason(reason).withMessage(message).build();
  }

  /** A hold put on a pod by {@link #holdPending}. */
  private record Hold(String reason, String message, CompletableFuture<Void> released) {
  }

  /** One pod as the kubelet runs it. */
  private final class PodRun {
    final String uid;
    final String name;
    final Pod pod;
    final long admitted = System.nanoTime();
    final CompletableFuture<RunnerProcess> started = new CompletableFuture<>();
    final CompletableFuture<Void> exited = new CompletableFuture<>();
    volatile RunnerProcess process;
    volatile String state = "admitted";
    volatile boolean stopping;
    volatile boolean killed;

    PodRun(Pod pod) {
      this.pod = pod;
      this.uid = pod.getMetadata().getUid();
      this.name = pod.getMetadata().getName();
    }

    /** Takes the runner started for this pod; false when the pod was stopped meanwhile (the caller stops it). */
    synchronized boolean attach(RunnerProcess p) {
      process = p;
      return !stopping;
    }

    void stop() {
      RunnerProcess p;
      synchronized (this) {
        stopping = true;
        p = process;
      }
      if (p == null) {
        exited.complete(null);
        return;
      }
      try {
        p.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
