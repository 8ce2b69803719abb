package dev.agentplatform.runtime.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectRulesReviewStatus;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The Kubernetes API calls of the sandboxes (fabric8): makes, finds, watches and deletes each agent's Pod, volume
 * and runner Secret in the sandbox namespace, and asks the API server what this platform may do there.
 */
public final class SandboxPods implements AutoCloseable {

  /**
   * What the runtime does in the sandbox namespace (resource to verbs, core API group), checked against a
   * SelfSubjectRulesReview; the Role in kubernetes/sandbox grants exactly these (ManifestsTest checks it).
   */
  public static final Map<String, List<String>> NEEDED = Map.of(
      "pods", List.of("create", "get", "list", "watch", "delete"),
      "persistentvolumeclaims", List.of("create", "get", "list", "delete"),
      "secrets", List.of("create", "get", "list", "delete"));
  private static final List<String> RESOURCE_ORDER = List.of("pods", "persistentvolumeclaims", "secrets");
  /** How old an object of a deleted agent must be before the start-up clean-up removes it. */
  static final Duration CLEAN_UP_GRACE = Duration.ofMinutes(10);

  private final KubernetesClient client;
  private final KubernetesSettings settings;
  private final SandboxObjects objects;
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  public SandboxPods(KubernetesClient client, KubernetesSettings settings) {
    this(client, settings, Clock.systemUTC());
  }

  /** @param clock what the start-up clean-up compares the objects' creation times with */
  SandboxPods(KubernetesClient client, KubernetesSettings settings, Clock clock) {
    this.client = client;
    this.settings = settings;
    this.objects = new SandboxObjects(settings);
    this.clock = clock;
  }

  String namespace() {
    return settings.namespace();
  }

  /** Where the API server is, for messages. */
  String apiServer() {
    return String.valueOf(client.getMasterUrl());
  }

  /**
   * Why this platform cannot run sandboxes in the namespace (the API server does not answer, refuses its credentials,
   * or does not grant everything {@link #NEEDED} lists), or null when it can.
   */
  public String whyUnusable() {
    List<String> missing;
    try {
      missing = missingPermissions();
    } catch (RuntimeException e) {
      int code = e instanceof KubernetesClientException k ? k.getCode() : 0;
      if (code == 401) {
        return "the Kubernetes API server at " + apiServer() + " refuses this platform's credentials (HTTP 401: "
            + KubernetesRuntime.rootMessage(e) + ")";
      }
      if (code > 0) {
        return "the Kubernetes API server at " + apiServer() + " answers the permission check with HTTP " + code
            + ": " + KubernetesRuntime.rootMessage(e);
      }
      return "the Kubernetes API server at " + apiServer() + " does not answer: " + KubernetesRuntime.rootMessage(e);
    }
    if (!missing.isEmpty()) {
      return "this platform's service account may not " + String.join(", ", missing) + " in namespace "
          + namespace() + " (kubernetes/sandbox: the Role agent-sandbox-manager and its RoleBinding)";
    }
    return null;
  }

  /**
   * Why this server is not in a Kubernetes cluster whose API it could call as its service account, or null when it
   * is: fabric8's in-cluster configuration needs {@code KUBERNETES_SERVICE_HOST} (set by the kubelet in every pod)
   * and the pod's service-account token.
   */
  public static String whyNotInCluster(Map<String, String> environment, Path token) {
    String host = environment.get(Config.KUBERNETES_SERVICE_HOST_PROPERTY);
    if (host == null || host.isBlank()) {
      return "not in a Kubernetes cluster (" + Config.KUBERNETES_SERVICE_HOST_PROPERTY + " is not set)";
    }
    if (!Files.isReadable(token)) {
      return "in a Kubernetes cluster, but no service-account token is mounted at " + token
          + " (the pod's automountServiceAccountToken is false)";
    }
    return null;
  }

  /**
   * The permissions this platform lacks in the sandbox namespace ("create pods", ...), empty when it has them all.
   * One SelfSubjectRulesReview lists what the namespace grants; only when that list is incomplete (an authorizer
   * that cannot list its rules, such as GKE's IAM webhook, may still allow more) is each permission it does not show
   * asked about with a SelfSubjectAccessReview.
   *
   * @throws KubernetesClientException when the API server does not answer
   */
  List<String> missingPermissions() {
    List<SandboxPermissions.Permission> wanted = SandboxPermissions.all(NEEDED, RESOURCE_ORDER);
    List<ResourceRule> rules = List.of();
    boolean complete = false;
    try {
      SelfSubjectRulesReview review = client.authorization().v1().selfSubjectRulesReview().create(
          new SelfSubjectRulesReviewBuilder().withNewSpec().withNamespace(namespace()).endSpec().build());
      SubjectRulesReviewStatus status = review.getStatus();
      if (status != null) {
        rules = status.getResourceRules() == null ? List.of() : status.getResourceRules();
        complete = !Boolean.TRUE.equals(status.getIncomplete());
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      // An API server without rules reviews: every permission is asked about on its own.
    }
    List<SandboxPermissions.Permission> notShown = SandboxPermissions.notGranted(wanted, rules);
    if (complete) {
      return notShown.stream().map(SandboxPermissions.Permission::toString).toList();
    }
    return notShown.stream().filter(p -> !allowed(p)).map(SandboxPermissions.Permission::toString).toList();
  }

  private boolean allowed(SandboxPermissions.Permission p) {
    SelfSubjectAccessReview review = new SelfSubjectAccessReviewBuilder().withNewSpec()
        .withNewResourceAttributes().withNamespace(namespace()).withVerb(p.verb()).withGroup("")
        .withResource(p.resource()).endResourceAttributes().endSpec().build();
    SelfSubjectAccessReview answer = client.authorization().v1().selfSubjectAccessReview().create(review);
    return answer.getStatus() != null && Boolean.TRUE.equals(answer.getStatus().getAllowed());
  }

  /**
   * The agent's running pod of this version and its secret, when one is there to take over (a pod left by an
   * earlier server); empty when there is none, or one that cannot be taken over (then it is deleted).
   */
  Optional<String> adoptable(String agentId) {
    Pod pod = client.pods().inNamespace(namespace()).withName(SandboxObjects.podName(agentId)).get();
    if (pod == null) {
      return Optional.empty();
    }
    Optional<String> secret = secret(agentId);
    if (pod.getMetadata().getDeletionTimestamp() == null && ofThisVersion(pod) && secret.isPresent() && !ended(pod)) {
      return secret;
    }
    deletePod(agentId);
    return Optional.empty();
  }

  /** The runner secret the platform made for the agent's pod, if its Secret is there. */
  private Optional<String> secret(String agentId) {
    Secret secret = client.secrets().inNamespace(namespace()).withName(SandboxObjects.secretName(agentId)).get();
    String value = secret == null || secret.getData() == null ? null : secret.getData().get(SandboxObjects.SECRET_KEY);
    return Optional.ofNullable(value).map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
  }

  /** Whether the pod was made by this platform version (its version annotation). */
  private boolean ofThisVersion(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    return settings.platformVersion().equals(annotations == null ? null : annotations.get(
        SandboxObjects.ANNOTATION_VERSION));
  }

  /**
   * Makes the agent's sandbox: its volume unless it exists (it outlives pods), a new runner secret, and the pod.
   *
   * @param progress hears what the making waits for (the previous pod of the same name to end)
   * @return the runner secret
   */
  String create(String ownerId, String agentId, Consumer<String> progress) {
    if (client.persistentVolumeClaims().inNamespace(namespace()).withName(SandboxObjects.claimName(agentId))
        .get() == null) {
      client.persistentVolumeClaims().inNamespace(namespace()).resource(objects.claim(ownerId, agentId)).create();
    }
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    client.secrets().inNamespace(namespace()).withName(SandboxObjects.secretName(agentId)).delete();
    client.secrets().inNamespace(namespace()).resource(objects.secret(ownerId, agentId, secret)).create();
    var pod = client.pods().inNamespace(namespace()).withName(SandboxObjects.podName(agentId));
    if (pod.get() != null) {
      // The agent's last pod is still ending (a pod deleted for idleness takes its grace period): the name is free
      // only once it is gone.
      progress.accept("starting a sandbox: waiting for the previous pod to end");
      pod.waitUntilCondition(java.util.Objects::isNull, 2, java.util.concurrent.TimeUnit.MINUTES);
    }
    client.pods().inNamespace(namespace()).resource(objects.pod(ownerId, agentId)).create();
    return secret;
  }

  /**
   * Watches the agent's pod until {@code done} holds for it (the pod as it is now, or null once it is gone); each
   * state it passes through is handed to {@code seen} first.
   */
  CompletableFuture<List<Pod>> watch(String agentId, Consumer<Pod> seen, Predicate<Pod> done) {
    return client.pods().inNamespace(namespace()).withName(SandboxObjects.podName(agentId)).informOnCondition(
        pods -> {
          Pod pod = pods.isEmpty() ? null : pods.get(0);
          seen.accept(pod);
          return done.test(pod);
        });
  }

  /** Deletes the agent's pod and its runner secret (the volume stays). */
  void deletePod(String agentId) {
    client.pods().inNamespace(namespace()).withName(SandboxObjects.podName(agentId)).delete();
    client.secrets().inNamespace(namespace()).withName(SandboxObjects.secretName(agentId)).delete();
  }

  /** Deletes everything of the agent's: pod, secret and volume. */
  void deleteAll(String agentId) {
    deletePod(agentId);
    client.persistentVolumeClaims().inNamespace(namespace()).withName(SandboxObjects.claimName(agentId)).delete();
  }

  /**
   * Removes what this platform left in the namespace that no agent needs: pods of another version (with their
   * secrets), and everything of agents that no longer exist, once older than {@link #CLEAN_UP_GRACE} (by its
   * {@code metadata.creationTimestamp}): a younger object may belong to an agent another replica is making right
   * now, not yet visible in the store. A young orphan pod is still deleted later, once idle (a left-over pod).
   *
   * @return how many objects it deleted
   */
  int cleanUp(Predicate<String> agentExists) {
    Map<String, String> selector = objects.platformLabels();
    int deleted = 0;
    List<HasMetadata> all = new ArrayList<>();
    all.addAll(client.pods().inNamespace(namespace()).withLabels(selector).list().getItems());
    all.addAll(client.secrets().inNamespace(namespace()).withLabels(selector).list().getItems());
    all.addAll(client.persistentVolumeClaims().inNamespace(namespace()).withLabels(selector).list().getItems());
    Instant before = clock.instant().minus(CLEAN_UP_GRACE);
    for (HasMetadata o : all) {
      Map<String, String> annotations = o.getMetadata().getAnnotations() == null ? Map.of() : o.getMetadata()
          .getAnnotations();
      String agentId = annotations.get(SandboxObjects.ANNOTATION_AGENT_ID);
      boolean orphan = (agentId == null || !agentExists.test(agentId)) && madeBefore(o, before);
      boolean oldPod = !(o instanceof io.fabric8.kubernetes.api.model.PersistentVolumeClaim)
          && !settings.platformVersion().equals(annotations.get(SandboxObjects.ANNOTATION_VERSION));
      if (orphan || oldPod) {
        client.resource(o).inNamespace(namespace()).delete();
        deleted++;
      }
    }
    return deleted;
  }

  /** Whether the object was made before {@code instant}; one without a readable creation time counts as young. */
  private static boolean madeBefore(HasMetadata o, Instant instant) {
    String created = o.getMetadata().getCreationTimestamp();
    if (created == null) {
      return false;
    }
    try {
      return Instant.parse(created).isBefore(instant);
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /** Closes the client (its HTTP connections and watches). */
  @Override
  public void close() {
    client.close();
  }

  /** A ready pod and where its runner answers. */
  record ReadyPod(Pod pod, PodConnector.Runner runner) {
  }

  /**
   * Follows every pod of this platform in the namespace with one informer (not one watch per agent), telling
   * {@code ended} of each that ends or goes away: its agent's id and the pod as last seen.
   */
  AutoCloseable followEnds(java.util.function.BiConsumer<String, Pod> ended) {
    return client.pods().inNamespace(namespace()).withLabels(objects.platformLabels()).inform(
        new io.fabric8.kubernetes.client.informers.ResourceEventHandler<Pod>() {
          @Override
          public void onAdd(Pod pod) {
          }

          @Override
          public void onUpdate(Pod before, Pod pod) {
            if (ended(pod) && !ended(before)) {
              tell(pod);
            }
          }

          @Override
          public void onDelete(Pod pod, boolean finalStateUnknown) {
            tell(pod);
          }

          private void tell(Pod pod) {
            String agentId = pod.getMetadata().getAnnotations() == null ? null : pod.getMetadata().getAnnotations()
                .get(SandboxObjects.ANNOTATION_AGENT_ID);
            if (agentId != null) {
              ended.accept(agentId, pod);
            }
          }
        });
  }

  /**
   * The agent's pod and where its runner answers, when the pod is of this version, ready, and its secret is there: a
   * server that restarted takes up a turn through it. Empty otherwise; nothing is deleted.
   */
  Optional<ReadyPod> readyRunner(String agentId) {
    Pod pod = client.pods().inNamespace(namespace()).withName(SandboxObjects.podName(agentId)).get();
    if (!ready(pod) || pod.getMetadata().getDeletionTimestamp() != null || !ofThisVersion(pod)) {
      return Optional.empty();
    }
    return secret(agentId).map(secret -> new ReadyPod(pod, runner(pod, secret)));
  }

  /** Where the runner of a ready pod answers: the pod's IP at the port it declares, with its secret. */
  PodConnector.Runner runner(Pod pod, String secret) {
    return new PodConnector.Runner(pod.getMetadata().getName(), pod.getStatus().getPodIP(), runnerPort(pod, settings
        .runnerPort()), secret);
  }

  /** The agents whose pods of this platform are in the namespace now (by the pods' agent-id annotation). */
  List<String> agentsWithPods() {
    return client.pods().inNamespace(namespace()).withLabels(objects.platformLabels()).list().getItems().stream()
        .map(p -> p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get(
            SandboxObjects.ANNOTATION_AGENT_ID))
        .filter(java.util.Objects::nonNull).toList();
  }

  /** Whether the pod runs with an IP and its runner is ready. */
  static boolean ready(Pod pod) {
    return pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
        && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isEmpty()
        && condition(pod, "Ready").map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /**
   * Where the pod's runner listens: the container port named {@code runner} in the pod as observed, else
   * {@code fallback} (SANDBOX_RUNNER_PORT). The pod says it, not the settings: a pod taken over from a server that ran
   * with another port, or a test's kubelet that gives each pod on one host a port of its own, is still reached.
   */
  static int runnerPort(Pod pod, int fallback) {
    if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return fallback;
    }
    return pod.getSpec().getContainers().stream().filter(c -> SandboxObjects.CONTAINER.equals(c.getName()))
        .filter(c -> c.getPorts() != null).flatMap(c -> c.getPorts().stream())
        .filter(p -> "runner".equals(p.getName()) && p.getContainerPort() != null && p.getContainerPort() > 0)
        .map(p -> p.getContainerPort()).findFirst().orElse(fallback);
  }

  /** Whether the pod is gone for good: ended (its runner exited) or being deleted. */
  static boolean ended(Pod pod) {
    if (pod == null || pod.getMetadata().getDeletionTimestamp() != null) {
      return true;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Failed".equals(phase) || "Succeeded".equals(phase);
  }

  /** What a starting pod waits for, in the words the agent's status shows. */
  static String detail(Pod pod) {
    String prefix = "starting a sandbox: ";
    if (pod == null) {
      return prefix + "creating the pod";
    }
    if (ended(pod)) {
      return prefix + "the pod ended" + reason(pod);
    }
    Optional<PodCondition> scheduled = condition(pod, "PodScheduled");
    if (scheduled.isEmpty() || !"True".equals(scheduled.get().getStatus())) {
      return prefix + "waiting for a node" + scheduled.filter(c -> c.getMessage() != null)
          .map(c -> " (" + c.getMessage() + ")").orElse("");
    }
    List<ContainerStatus> containers = pod.getStatus().getContainerStatuses();
    if (containers != null) {
      for (ContainerStatus c : containers) {
        if (c.getState() != null && c.getState().getWaiting() != null) {
          String why = String.valueOf(c.getState().getWaiting().getReason());
          String message = c.getState().getWaiting().getMessage();
          return switch (why) {
            case "ErrImagePull", "ImagePullBackOff", "InvalidImageName" -> prefix + "the image cannot be pulled ("
                + why + (message == null ? "" : ": " + message) + ")";
            case "ContainerCreating", "PodInitializing" -> prefix + "pulling the image";
            default -> prefix + "the container waits (" + why + (message == null ? "" : ": " + message) + ")";
          };
        }
      }
    }
    if ("Running".equals(pod.getStatus().getPhase())) {
      return prefix + "waiting for the runner";
    }
    return prefix + "pulling the image";
  }

  private static String reason(Pod pod) {
    if (pod.getStatus() == null) {
      return "";
    }
    String r = pod.getStatus().getReason();
    String m = pod.getStatus().getMessage();
    return r == null && m == null ? "" : " (" + (r == null ? "" : r) + (m == null ? "" : (r == null ? "" : ": ") + m)
        + ")";
  }

  private static Optional<PodCondition> condition(Pod pod, String type) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }
}
