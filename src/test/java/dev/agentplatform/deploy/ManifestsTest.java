package dev.agentplatform.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.deploy.ManifestChecks.Violation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes manifests, checked without a cluster: each overlay is rendered with {@code kubectl kustomize} and
 * every object is checked against the API schemas (Kubernetes and GKE's custom resources), GKE Autopilot's rules and
 * the application itself ({@link ManifestChecks}). A deliberately broken overlay (src/test/resources/manifests/broken)
 * proves that the same checks reject each kind of mistake.
 */
class ManifestsTest {

  private static final Path ROOT = Path.of(System.getProperty("project.basedir", "."));
  private static final Path VALIDATOR = ROOT.resolve("src/test/manifests");

  private static AppFacts app;

  @BeforeAll
  static void readTheApplication() {
    app = AppFacts.read(ROOT);
  }

  /** What the checks compare against is what the application really has (not an empty set that lets all pass). */
  @Test
  void theFactsComeFromTheApplication() {
    assertEquals(9080, app.httpPort());
    assertEquals(Map.of("started", "/health/started", "live", "/health/live", "ready", "/health/ready"), app
        .healthPaths());
    assertTrue(app.documentedKeys().containsAll(List.of("ANTHROPIC_API_KEY", "DISABLE_DOCKER", "CLI_RUN_AS_UID",
        "CLI_RUN_AS_GID", "FIRESTORE_PROJECT_ID")), app.documentedKeys()::toString);
    assertFalse(app.documentedKeys().contains("LOG_FORMAT"));
    assertTrue(app.writablePaths().containsAll(List.of("/logs", "/opt/ol/wlp/output", "/tmp",
        "/var/lib/agent-platform/data", "/var/lib/agent-platform/workspaces")), app.writablePaths()::toString);
  }

  @Test
  void theGkeOverlayPassesEveryCheck() {
    List<Map<String, Object>> objects = Tools.render(ROOT.resolve("kubernetes/overlays/gke"));
    List<String> kinds = objects.stream().map(o -> String.valueOf(o.get("kind"))).sorted().toList();
    assertEquals(List.of("BackendConfig", "ConfigMap", "Deployment", "FrontendConfig", "HorizontalPodAutoscaler",
        "Ingress", "ManagedCertificate", "Namespace", "Namespace", "NetworkPolicy", "NetworkPolicy",
        "PodDisruptionBudget", "PodMonitoring", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceAccount"),
        kinds, "the settings ConfigMap stays out (local-config), no Secret is rendered");
    List<Violation> violations = ManifestChecks.check(app, objects, Tools.validateSchemas(VALIDATOR, objects));
    assertEquals(List.of(), violations, () -> "the GKE overlay breaks rules:\n" + lines(violations));
  }

  /** Every value of settings.env reaches its object, and nothing else in the overlay carries a placeholder. */
  @Test
  void theSettingsReachTheirObjects() throws IOException {
    String rendered = String.join("\n", Tools.render(ROOT.resolve("kubernetes/overlays/gke")).stream().map(
        Object::toString).toList());
    assertFalse(rendered.contains("from-settings"), rendered);
    for (String line : Files.readAllLines(ROOT.resolve("kubernetes/overlays/gke/settings.env"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String value = line.substring(line.indexOf('=') + 1);
        assertTrue(rendered.contains(value), () -> line + " appears nowhere in the rendered objects");
      }
    }
  }

  @Test
  void theBrokenOverlayFailsEachCheck() {
    List<Map<String, Object>> objects = Tools.render(ROOT.resolve("src/test/resources/manifests/broken"));
    List<Violation> violations = ManifestChecks.check(app, objects, Tools.validateSchemas(VALIDATOR, objects));
    String c = "Deployment/agent-platform container server";
    List<String[]> expected = List.of(
        new String[] {"schema", "Deployment/agent-platform", "/spec/revisionHistoryLimit must be integer"},
        new String[] {"schema", "ManagedCertificate/agent-platform", "/spec/domains must be array"},
        // ... which also leaves the Ingress without a domain for its certificate.
        new String[] {"ingress", "Ingress/agent-platform", "its ManagedCertificate 'agent-platform' is missing or has"
            + " no domain"},
        new String[] {"schema", "PodMonitoring/agent-platform", "must have required property 'interval'"},
        new String[] {"autopilot", c, "privileged: true is refused by Autopilot"},
        new String[] {"autopilot", c, "adds capability SYS_ADMIN, refused by Autopilot"},
        new String[] {"autopilot", "Deployment/agent-platform", "hostPID: true is refused by Autopilot"},
        new String[] {"autopilot", "Deployment/agent-platform", "volume docker-socket is a hostPath"},
        new String[] {"autopilot", c, "requests 16 GiB of memory per vCPU; Autopilot accepts 1 to 6.5"},
        new String[] {"pod-security", c, "readOnlyRootFilesystem is not true"},
        new String[] {"writable-paths", c, "/tmp (the image writes there) is not mounted"},
        new String[] {"env-documented", c, "env UNDOCUMENTED_SETTING is not a key documented"},
        new String[] {"env-documented", "ConfigMap/agent-platform-config-", "key LOG_FORMAT is not a key documented"},
        new String[] {"probes", c, "readinessProbe asks /health, the application answers it at /health/ready"},
        new String[] {"probes", c, "livenessProbe asks port 8080, the server listens on 9080"},
        new String[] {"backend-config", "BackendConfig/agent-platform", "timeoutSec 30 cuts every WebSocket"},
        new String[] {"hpa", "HorizontalPodAutoscaler/agent-platform", "maxReplicas 3"},
        new String[] {"secrets", "Secret/agent-platform-secrets-", "a Secret with data in the repository"},
        new String[] {"network-policy", "NetworkPolicy/agent-platform", "lets out every port to [0.0.0.0/0]"},
        new String[] {"rbac", "Role/agent-sandbox-manager", "grants '*'"},
        new String[] {"rbac", "Role/agent-sandbox-manager", "on pods/exec, which the runtime never does"},
        new String[] {"rbac", "RoleBinding/agent-sandbox-manager", "binds Role edit in agent-sandboxes, not this"
            + " deployment's Role"},
        new String[] {"sandbox", "NetworkPolicy/agent-sandbox", "lets out port 80 to the metadata server"},
        new String[] {"sandbox", "NetworkPolicy/agent-sandbox", "lets out port 53 to more than the cluster's DNS"},
        new String[] {"sandbox", "NetworkPolicy/agent-sandbox", "lets in more than the server's pods (in namespace"
            + " agent-platform)"},
        new String[] {"sandbox", "NetworkPolicy/agent-sandbox", "lets in port 8888; the runner listens on 9999"},
        new String[] {"sandbox", "NetworkPolicy/agent-platform", "lets the server reach no sandbox pod's runner (port"
            + " 9999"},
        new String[] {"network-policy", "NetworkPolicy/agent-platform", "lets out port 8888 to"},
        new String[] {"sandbox", "NetworkPolicy/agent-platform", "lets the server reach no Kubernetes API server"},
        new String[] {"sandbox", "ServiceAccount/default", "missing in agent-sandboxes (SANDBOX_SERVICE_ACCOUNT)"},
        new String[] {"sandbox", "Deployment/agent-platform", "mounts no service-account token"},
        new String[] {"sandbox", "Deployment/agent-platform", "SANDBOX_IMAGE agent-platform-agent:latest names no"
            + " registry"},
        new String[] {"sandbox", "Namespace/agent-sandboxes", "enforces no Pod Security level"});
    List<String> missing = new ArrayList<>();
    for (String[] e : expected) {
      boolean reported = violations.stream().anyMatch(v -> v.check().equals(e[0]) && v.object().startsWith(e[1])
          && v.message().contains(e[2]));
      if (!reported) {
        missing.add(String.join(" | ", e));
      }
    }
    assertEquals(List.of(), missing, () -> "not reported; the checks found:\n" + lines(violations));
    List<String> checks = violations.stream().map(Violation::check).distinct().sorted().toList();
    assertEquals(expected.stream().map(e -> e[0]).distinct().sorted().toList(), checks,
        () -> "a check fired that the fixture does not aim at:\n" + lines(violations));
  }

  /** Without the image's label the test cannot know what to mount, and says so instead of passing. */
  @Test
  void aContainerfileWithoutTheLabelIsAnError(@TempDir Path dir) throws IOException {
    Path containerfile = Files.writeString(dir.resolve("Containerfile"), "FROM scratch\nUSER 1001\n");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> AppFacts.writablePaths(
        containerfile));
    assertTrue(e.getMessage().contains("has no LABEL dev.agentplatform.writable-paths"), e.getMessage());
    Files.writeString(containerfile, "LABEL org.opencontainers.image.title=x \\\n"
        + "      dev.agentplatform.writable-paths=\"/tmp /logs\"\n");
    assertEquals(List.of("/tmp", "/logs"), AppFacts.writablePaths(containerfile));
  }

  @Test
  void quantitiesReadAsKubernetesWritesThem() {
    assertEquals(0.5, ManifestChecks.cores("500m"));
    assertEquals(2.0, ManifestChecks.cores("2"));
    assertEquals(1L << 30, ManifestChecks.bytes("1Gi"));
    assertEquals(256L << 20, ManifestChecks.bytes("256Mi"));
    assertEquals(2_000_000_000L, ManifestChecks.bytes("2G"));
  }

  @Test
  void addressBlocksReadAsNetworkPoliciesReadThem() {
    assertTrue(ManifestChecks.contains("0.0.0.0/0", "169.254.169.254"));
    assertTrue(ManifestChecks.contains("169.254.0.0/16", "169.254.169.254"));
    assertFalse(ManifestChecks.contains("169.254.169.252/32", "169.254.169.254"));
    assertFalse(ManifestChecks.contains("::/0", "169.254.169.254"));
    assertFalse(ManifestChecks.reaches(Map.of("cidr", "0.0.0.0/0", "except", List.of("10.0.0.0/8", "169.254.0.0/16")),
        "169.254.169.254"));
    assertTrue(ManifestChecks.reaches(Map.of("cidr", "0.0.0.0/0", "except", List.of("10.0.0.0/8")),
        "169.254.169.254"));
  }

  /** The checks read the application's defaults, so a setting the overlay leaves out is still checked. */
  @Test
  void defaultsComeFromTheApplication() {
    assertEquals("8888", ManifestChecks.configDefault("SANDBOX_RUNNER_PORT"));
    assertEquals("agent-sandboxes", ManifestChecks.configDefault("SANDBOX_NAMESPACE"));
    assertThrows(IllegalStateException.class, () -> ManifestChecks.configDefault("NO_SUCH_KEY"));
  }

  private static String lines(List<Violation> violations) {
    return String.join("\n", violations.stream().map(Violation::toString).toList());
  }
}
