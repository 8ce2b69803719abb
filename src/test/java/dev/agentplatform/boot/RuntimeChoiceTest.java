package dev.agentplatform.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Which runtime AGENT_RUNTIME chooses and the reason readiness shows, with each probe asked only when needed. */
class RuntimeChoiceTest {

  private static final String HOST = "unix:///var/run/docker.sock";
  private static final String NOT_IN_CLUSTER = "not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not set)";

  private final List<String> asked = new ArrayList<>();

  private Supplier<String> probe(String name, String answer) {
    return () -> {
      asked.add(name);
      return answer;
    };
  }

  private RuntimeChoice.Decision decide(String choice, boolean disableDocker, String kubernetes, String docker) {
    return RuntimeChoice.decide(choice, disableDocker, HOST, probe("kubernetes", kubernetes), probe("docker",
        docker));
  }

  @Test
  void autoPicksKubernetesInAClusterThatGrantsWhatItNeeds() {
    RuntimeChoice.Decision d = decide("auto", true, null, null);

    assertEquals("kubernetes", d.runtime());
    assertEquals("AGENT_RUNTIME=auto and this server runs in a Kubernetes cluster whose API server grants it what"
        + " the kubernetes runtime needs", d.why());
    assertEquals(List.of("kubernetes"), asked, "Docker is not asked");
  }

  @Test
  void autoOutsideAClusterFallsBackToDockerSayingWhyNotKubernetes() {
    RuntimeChoice.Decision d = decide("auto", false, NOT_IN_CLUSTER, null);

    assertEquals("docker", d.runtime());
    assertEquals("AGENT_RUNTIME=auto and the Docker Engine at " + HOST + " answers; not kubernetes: " + NOT_IN_CLUSTER,
        d.why());
    assertEquals(List.of("kubernetes", "docker"), asked);
  }

  @Test
  void autoInAClusterWithoutThePermissionsFallsBackToProcessSayingWhichAreMissing() {
    String refused = "this platform's service account may not watch pods in namespace agent-sandboxes"
        + " (kubernetes/sandbox: the Role agent-sandbox-manager and its RoleBinding)";

    RuntimeChoice.Decision d = decide("auto", false, refused, "connection refused");

    assertEquals("process", d.runtime());
    assertEquals("AGENT_RUNTIME=auto and no Docker Engine answers at " + HOST + " (connection refused); not"
        + " kubernetes: " + refused, d.why());
  }

  @Test
  void autoWithDockerDisabledAndNoClusterRunsProcessesWithoutAskingDocker() {
    RuntimeChoice.Decision d = decide("auto", true, NOT_IN_CLUSTER, null);

    assertEquals("process", d.runtime());
    assertEquals("DISABLE_DOCKER=true; not kubernetes: " + NOT_IN_CLUSTER, d.why());
    assertEquals(List.of("kubernetes"), asked);
  }

  @Test
  void anExplicitChoiceAsksNoProbe() {
    assertEquals(new RuntimeChoice.Decision("kubernetes", "AGENT_RUNTIME=kubernetes"), decide("kubernetes", true,
        "unused", "unused"));
    assertEquals(new RuntimeChoice.Decision("process", "AGENT_RUNTIME=process"), decide("process", false, null,
        null));
    assertEquals(new RuntimeChoice.Decision("simulated", "AGENT_RUNTIME=simulated"), decide("simulated", false,
        null, null));
    assertEquals(new RuntimeChoice.Decision("docker", "AGENT_RUNTIME=docker"), decide("docker", false, null,
        "unused"));
    assertEquals(new RuntimeChoice.Decision("process", "DISABLE_DOCKER=true overrides AGENT_RUNTIME=docker"), decide(
        "docker", true, null, null));
    assertEquals(List.of(), asked);
  }

  @Test
  void anUnknownChoiceIsRefusedNamingTheChoices() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> decide("k8s", false, null, null));
    assertEquals("AGENT_RUNTIME must be auto, docker, kubernetes, process or simulated, not 'k8s'", e.getMessage());
  }
}
