package dev.agentplatform.runtime.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The sandbox's Pod, volume and Secret, field by field: every security setting the issue asks for. */
class KubernetesSandboxSpecTest {

  /** The capabilities GKE Autopilot lets a container add (the gke-autopilot note; ManifestChecks keeps the same). */
  static final List<String> AUTOPILOT_CAPABILITIES = List.of("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER",
      "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
      "SYS_CHROOT", "SYS_PTRACE");

  private final SandboxObjects objects = new SandboxObjects(KubernetesRuntimeTest.settings("1.0", Duration.ZERO));

  @Test
  void thePodIsWalledIn() {
    Pod pod = objects.pod("alice@example.com", "a1");
    var spec = pod.getSpec();
    assertEquals("agent-a1", pod.getMetadata().getName());
    assertEquals("sandboxes", pod.getMetadata().getNamespace());
    assertEquals("gvisor", spec.getRuntimeClassName());
    assertEquals("agent-sandbox", spec.getServiceAccountName());
    assertEquals(false, spec.getAutomountServiceAccountToken());
    assertEquals(false, spec.getEnableServiceLinks());
    assertEquals("Never", spec.getRestartPolicy());
    assertEquals(null, spec.getHostNetwork());
    assertEquals(null, spec.getHostPID());
    // The runner is root; the CLI, the only process running the agent's code, runs as 1000 (RUNNER_CLI_USER).
    assertEquals(false, spec.getSecurityContext().getRunAsNonRoot());
    assertEquals(0L, spec.getSecurityContext().getRunAsUser());
    assertEquals(0L, spec.getSecurityContext().getRunAsGroup());
    assertNull(spec.getSecurityContext().getFsGroup(), "an fsGroup would make the secret group-readable");
    assertTrue(spec.getSecurityContext().getSupplementalGroups().isEmpty(), "no supplementary group");
    assertEquals("RuntimeDefault", spec.getSecurityContext().getSeccompProfile().getType());

    assertEquals(1, spec.getContainers().size());
    Container c = spec.getContainers().get(0);
    assertEquals("registry.example/agent:2.1.328", c.getImage());
    assertEquals(List.of("/usr/bin/tini", "--", "/opt/agent-runner/java/bin/java", "-XX:+DisableAttachMechanism",
        "-jar", "/opt/agent-runner/runner.jar"), c.getCommand(),
        "the runner under tini, named in the pod: not the image's CMD");
    assertTrue(c.getArgs() == null || c.getArgs().isEmpty(), "no arguments: the runner reads the environment");
    var sc = c.getSecurityContext();
    assertEquals(false, sc.getRunAsNonRoot());
    assertEquals(0L, sc.getRunAsUser());
    assertEquals(0L, sc.getRunAsGroup());
    assertEquals(true, sc.getReadOnlyRootFilesystem());
    assertEquals(false, sc.getAllowPrivilegeEscalation());
    assertEquals(false, sc.getPrivileged());
    assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
    assertEquals(List.of("CHOWN", "KILL", "SETGID", "SETUID"), sc.getCapabilities().getAdd());
    assertTrue(AUTOPILOT_CAPABILITIES.containsAll(sc.getCapabilities().getAdd()), "Autopilot allows each");
    assertEquals("RuntimeDefault", sc.getSeccompProfile().getType());
    Map<String, Quantity> expected = Map.of("cpu", new Quantity("500m"), "memory", new Quantity("1Gi"),
        "ephemeral-storage", new Quantity("1Gi"));
    assertEquals(expected, c.getResources().getRequests());
    assertEquals(expected, c.getResources().getLimits());
    assertEquals(8888, c.getPorts().get(0).getContainerPort());
    assertEquals("runner", c.getPorts().get(0).getName());
    var probe = c.getReadinessProbe();
    assertNull(probe.getTcpSocket(), "not a bare TCP check");
    assertEquals("/healthz", probe.getHttpGet().getPath(), "the runner's unauthenticated health endpoint");
    assertEquals("runner", probe.getHttpGet().getPort().getStrVal());
    assertEquals("HTTP", probe.getHttpGet().getScheme());
    assertTrue(probe.getHttpGet().getHttpHeaders().isEmpty(), "no secret in the probe");

    Map<String, String> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertEquals(Map.of("RUNNER_PORT", "8888", "RUNNER_SECRET_FILE", "/var/run/agent-platform/runner/secret",
        "RUNNER_WORKSPACE", "/workspace", "RUNNER_CLI_USER", "1000:1000"), env,
        "no secret and no API key in the pod's environment");
    assertTrue(c.getEnv().stream().allMatch(e -> e.getValueFrom() == null));
    assertTrue(c.getEnvFrom() == null || c.getEnvFrom().isEmpty());

    Map<String, VolumeMount> mounts = c.getVolumeMounts().stream().collect(Collectors.toMap(VolumeMount::getName,
        m -> m));
    assertEquals("/workspace", mounts.get("workspace").getMountPath());
    assertEquals("/tmp", mounts.get("tmp").getMountPath());
    assertEquals("/var/run/agent-platform/runner", mounts.get("runner-secret").getMountPath());
    assertEquals(true, mounts.get("runner-secret").getReadOnly());
    Map<String, Volume> volumes = spec.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
    assertEquals("agent-a1-workspace", volumes.get("workspace").getPersistentVolumeClaim().getClaimName());
    assertEquals(new Quantity("512Mi"), volumes.get("tmp").getEmptyDir().getSizeLimit());
    var secret = volumes.get("runner-secret").getSecret();
    assertEquals("agent-a1-runner", secret.getSecretName());
    assertEquals(0400, secret.getDefaultMode());
    assertEquals("secret", secret.getItems().get(0).getKey());
    assertEquals("secret", secret.getItems().get(0).getPath());
    assertEquals(3, volumes.size(), "no hostPath, nothing else");
  }

  @Test
  void labelsNameThePlatformTheAgentAndADigestOfTheUser() {
    Pod pod = objects.pod("alice@example.com", "a1");
    Map<String, String> labels = pod.getMetadata().getLabels();
    assertEquals("agent-sandbox", labels.get("app.kubernetes.io/name"));
    assertEquals("agent-platform", labels.get("app.kubernetes.io/managed-by"));
    assertEquals("agent-platform", labels.get("dev.agentplatform/platform"));
    assertEquals("1.0", labels.get("dev.agentplatform/version"));
    assertEquals("a1", labels.get("dev.agentplatform/agent"));
    assertEquals(SandboxObjects.digest("alice@example.com").substring(0, 40), labels.get("dev.agentplatform/user"));
    assertFalse(labels.values().stream().anyMatch(v -> v.contains("alice")), "never the raw user id");
    assertFalse(pod.getMetadata().getAnnotations().values().stream().anyMatch(v -> v.contains("alice")));
    assertEquals("a1", pod.getMetadata().getAnnotations().get("dev.agentplatform/agent-id"));
    assertEquals("1.0", pod.getMetadata().getAnnotations().get("dev.agentplatform/platform-version"));
  }

  @Test
  void theVolumeAndTheSecret() {
    PersistentVolumeClaim claim = objects.claim("u", "a1");
    assertEquals("agent-a1-workspace", claim.getMetadata().getName());
    assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
    assertEquals(new Quantity("5Gi"), claim.getSpec().getResources().getRequests().get("storage"));
    assertEquals("standard-rwo", claim.getSpec().getStorageClassName());

    Secret secret = objects.secret("u", "a1", "s3cret");
    assertEquals("agent-a1-runner", secret.getMetadata().getName());
    assertEquals("Opaque", secret.getType());
    assertEquals("s3cret", new String(Base64.getDecoder().decode(secret.getData().get("secret")),
        StandardCharsets.UTF_8));
    assertTrue(secret.getStringData() == null || secret.getStringData().isEmpty());
  }

  @Test
  void namesAreDeterministicAndDns1123SafeForAnyAgentId() {
    assertEquals("agent-4f77ab", SandboxObjects.podName("4f77ab"));
    String odd = "Agent_With-UPPER";
    assertEquals(SandboxObjects.podName(odd), SandboxObjects.podName(odd));
    for (String id : List.of(odd, "a".repeat(64), "x", "0123456789abcdef0123456789abcdef")) {
      for (String name : List.of(SandboxObjects.podName(id), SandboxObjects.claimName(id), SandboxObjects
          .secretName(id))) {
        assertTrue(name.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"), name);
      }
      assertTrue(SandboxObjects.agentLabel(id).matches("[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?"), id);
    }
    assertFalse(SandboxObjects.podName("Ab").equals(SandboxObjects.podName("ab")), "ids differing in case differ");
  }

  @Test
  void anEmptyRuntimeClassLeavesTheClustersDefault() {
    KubernetesSettings s = KubernetesRuntimeTest.settings("1.0", Duration.ZERO);
    KubernetesSettings plain = new KubernetesSettings(s.namespace(), "", s.image(), s.cpu(), s.memory(), s
        .storageSize(), "", s.serviceAccount(), s.runnerPort(), s.workspace(), s.platform(), s.platformVersion(), s
            .cli(), s
                .permissionMode(), s.cliIdle(), s.outputLimitBytes(), s.environment(), s.secrets(), null);
    assertNull(new SandboxObjects(plain).pod("u", "a1").getSpec().getRuntimeClassName());
    assertNull(new SandboxObjects(plain).claim("u", "a1").getSpec().getStorageClassName());
  }
}
