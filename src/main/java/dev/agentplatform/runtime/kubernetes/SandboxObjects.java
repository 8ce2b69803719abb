package dev.agentplatform.runtime.kubernetes;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Kubernetes objects of one agent's sandbox, as plain values: its names (deterministic from the agent id), its
 * labels, and the specs of its Pod, PersistentVolumeClaim and runner Secret.
 */
public final class SandboxObjects {

  /** Where each agent's workspace volume is mounted by default, and the CLI's working directory and home. */
  public static final String WORKSPACE = "/workspace";
  /** The CLI's PATH: the image's (the runner passes the CLI only the environment the platform sends). */
  public static final String PATH = "/usr/local/bin:/usr/bin:/bin";
  /** The directory the runner's secret is mounted in. */
  public static final String RUNNER_SECRET_DIR = "/var/run/agent-platform/runner";
  /** The file the runner reads its secret from (given to it as RUNNER_SECRET_FILE). */
  public static final String RUNNER_SECRET_FILE = RUNNER_SECRET_DIR + "/secret";
  /**
   * The pod's command: the runner in the agent image (containers/agent/Containerfile, whose CMD is the same), on its
   * jlink'd Java runtime. Named in the pod so that the image's CMD does not decide it. No attach mechanism: no process
   * of the CLI's can attach to the runner's JVM, even as the same uid (RUNNER_CLI_USER=none). Under tini, as pid 1:
   * what the agent moves out of the CLI's tree (a double fork, setsid) is re-parented to pid 1 when it ends or is
   * killed, and a JVM there would never reap it (zombies would fill the pod's pid limit); tini reaps them and passes
   * SIGTERM on to the runner.
   */
  public static final java.util.List<String> RUNNER_COMMAND = java.util.List.of("/usr/bin/tini", "--",
      "/opt/agent-runner/java/bin/java", "-XX:+DisableAttachMechanism", "-jar", "/opt/agent-runner/runner.jar");
  /** The key of the secret in the Secret object, and the file's name. */
  static final String SECRET_KEY = "secret";
  /** The uid and gid of the image's non-root user ({@code agent}): whom the runner runs the CLI as. */
  static final long USER = 1000;
  /**
   * What the runner, uid 0, keeps of root's capabilities: SETUID and SETGID to start the CLI as {@link #USER}, KILL
   * to end the CLI's processes (another uid's), CHOWN to give the CLI its workspace volume's root (a new volume's is
   * root's, and an {@code fsGroup} would make the secret readable by the CLI's gid). All are in GKE Autopilot's
   * allowed list.
   */
  static final java.util.List<String> RUNNER_CAPABILITIES = java.util.List.of("CHOWN", "KILL", "SETGID", "SETUID");
  static final String CONTAINER = "agent";

  static final String LABEL_NAME = "app.kubernetes.io/name";
  static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String LABEL_PLATFORM = "dev.agentplatform/platform";
  static final String LABEL_VERSION = "dev.agentplatform/version";
  static final String LABEL_AGENT = "dev.agentplatform/agent";
  static final String LABEL_USER = "dev.agentplatform/user";
  static final String ANNOTATION_AGENT_ID = "dev.agentplatform/agent-id";
  static final String ANNOTATION_VERSION = "dev.agentplatform/platform-version";
  /** The value of {@link #LABEL_NAME} on every sandbox pod (the NetworkPolicy selects it). */
  public static final String APP_NAME = "agent-sandbox";

  private final KubernetesSettings settings;

  public SandboxObjects(KubernetesSettings settings) {
    this.settings = settings;
  }

  /**
   * The stem of the agent's object names: {@code agent-<id>} for an id of lower-case letters and digits (the
   * platform's own ids), else {@code agent-x<digest of the id>}; always a DNS-1123 label with room for a suffix.
   */
  static String stem(String agentId) {
    if (agentId.matches("[a-z0-9]{1,40}")) {
      return "agent-" + agentId;
    }
    return "agent-x" + digest(agentId).substring(0, 32);
  }

  public static String podName(String agentId) {
    return stem(agentId);
  }

  public static String claimName(String agentId) {
    return stem(agentId) + "-workspace";
  }

  public static String secretName(String agentId) {
    return stem(agentId) + "-runner";
  }

  /** The agent's label value: its id when that is a valid label value, else a digest of it. */
  static String agentLabel(String agentId) {
    return agentId.matches("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?") ? agentId : "x" + digest(agentId)
        .substring(0, 40);
  }

  /** The user's label value: a digest, never the raw id (which may be an e-mail address). */
  static String userLabel(String ownerId) {
    return digest(ownerId).substring(0, 40);
  }

  /** The version's label value: itself when it is a valid label value, else a digest of it. */
  static String versionLabel(String version) {
    return version.matches("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?") ? version : "x" + digest(version)
        .substring(0, 40);
  }

  /** The labels every object of this platform carries (what start-up looks for). */
  Map<String, String> platformLabels() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_NAME, APP_NAME);
    labels.put(LABEL_MANAGED_BY, settings.platform());
    labels.put(LABEL_PLATFORM, settings.platform());
    return labels;
  }

  Map<String, String> labels(String ownerId, String agentId) {
    Map<String, String> labels = platformLabels();
    labels.put(LABEL_VERSION, versionLabel(settings.platformVersion()));
    labels.put(LABEL_AGENT, agentLabel(agentId));
    labels.put(LABEL_USER, userLabel(ownerId));
    return labels;
  }

  Map<String, String> annotations(String agentId) {
    return Map.of(ANNOTATION_AGENT_ID, agentId, ANNOTATION_VERSION, settings.platformVersion());
  }

  /** The agent's workspace volume: kept across pods, deleted with the agent. */
  public PersistentVolumeClaim claim(String ownerId, String agentId) {
    var spec = new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(claimName(agentId)).withNamespace(settings.namespace())
        .withLabels(labels(ownerId, agentId)).withAnnotations(annotations(agentId)).endMetadata()
        .withNewSpec().withAccessModes("ReadWriteOnce")
        .withNewResources().addToRequests("storage", new Quantity(settings.storageSize())).endResources();
    if (!settings.storageClass().isEmpty()) {
      spec.withStorageClassName(settings.storageClass());
    }
    return spec.endSpec().build();
  }

  /** The pod's runner secret: made anew with each pod, mounted only as a file. */
  public Secret secret(String ownerId, String agentId, String value) {
    return new SecretBuilder()
        .withNewMetadata().withName(secretName(agentId)).withNamespace(settings.namespace())
        .withLabels(labels(ownerId, agentId)).withAnnotations(annotations(agentId)).endMetadata()
        .withType("Opaque")
        .addToData(SECRET_KEY, Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  /**
   * The agent's sandbox pod: the agent image (its runner as the command, as root with only the capabilities it
   * needs, the CLI as uid/gid 1000 with none), a read-only root, no privilege escalation, the RuntimeDefault seccomp
   * profile, no API token, the workspace volume, a private {@code /tmp}, and the runner's secret as a root-owned
   * file of mode 0400.
   */
  public Pod pod(String ownerId, String agentId) {
    Map<String, Quantity> resources = Map.of("cpu", new Quantity(settings.cpu()), "memory", new Quantity(settings
        .memory()), "ephemeral-storage", new Quantity("1Gi"));
    return new PodBuilder()
        .withNewMetadata().withName(podName(agentId)).withNamespace(settings.namespace())
        .withLabels(labels(ownerId, agentId)).withAnnotations(annotations(agentId)).endMetadata()
        .withNewSpec()
        .withRuntimeClassName(settings.runtimeClass().isEmpty() ? null : settings.runtimeClass())
        .withServiceAccountName(settings.serviceAccount())
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        // A pod whose runner ends is not restarted in place: the platform makes a new one at the next turn.
        .withRestartPolicy("Never")
        .withTerminationGracePeriodSeconds(10L)
        // The runner runs as root so that the CLI (the only process running the agent's code) can run as another
        // uid than the one owning the secret; no fsGroup: it would apply to the secret volume too (group-owned and
        // group-readable, 0440), readable by the CLI's gid, which the runner refuses at start (docs/runner.md).
        .withNewSecurityContext()
        .withRunAsNonRoot(false).withRunAsUser(0L).withRunAsGroup(0L)
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(settings.image())
        .withImagePullPolicy("IfNotPresent")
        .withCommand(RUNNER_COMMAND)
        .addNewPort().withName("runner").withContainerPort(settings.runnerPort()).withProtocol("TCP").endPort()
        .addNewEnv().withName("RUNNER_PORT").withValue(Integer.toString(settings.runnerPort())).endEnv()
        .addNewEnv().withName("RUNNER_SECRET_FILE").withValue(RUNNER_SECRET_FILE).endEnv()
        .addNewEnv().withName("RUNNER_WORKSPACE").withValue(settings.workspace()).endEnv()
        .addNewEnv().withName("RUNNER_CLI_USER").withValue(USER + ":" + USER).endEnv()
        .withNewResources().withRequests(resources).withLimits(resources).endResources()
        .withNewSecurityContext()
        .withRunAsNonRoot(false).withRunAsUser(0L).withRunAsGroup(0L)
        .withReadOnlyRootFilesystem(true)
        // No new privileges: the CLI, started by a holder of SETUID, cannot gain any back (setpriv --no-new-privs).
        .withAllowPrivilegeEscalation(false)
        .withPrivileged(false)
        .withNewCapabilities().withDrop("ALL").withAdd(RUNNER_CAPABILITIES).endCapabilities()
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .endSecurityContext()
        // Ready once the runner answers its health endpoint (no secret needed; it says nothing else): a port that
        // accepts connections is not yet a runner that serves.
        .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort("runner").withScheme("HTTP")
        .endHttpGet().withPeriodSeconds(2).endReadinessProbe()
        .addNewVolumeMount().withName("workspace").withMountPath(settings.workspace()).endVolumeMount()
        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
        .addNewVolumeMount().withName("runner-secret").withMountPath(RUNNER_SECRET_DIR).withReadOnly(true)
        .endVolumeMount()
        .endContainer()
        .addNewVolume().withName("workspace").withNewPersistentVolumeClaim().withClaimName(claimName(agentId))
        .endPersistentVolumeClaim().endVolume()
        .addNewVolume().withName("tmp").withNewEmptyDir().withSizeLimit(new Quantity("512Mi")).endEmptyDir()
        .endVolume()
        .addNewVolume().withName("runner-secret").withNewSecret().withSecretName(secretName(agentId))
        .withDefaultMode(0400).addNewItem().withKey(SECRET_KEY).withPath(SECRET_KEY).endItem().endSecret()
        .endVolume()
        .endSpec()
        .build();
  }

  static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
