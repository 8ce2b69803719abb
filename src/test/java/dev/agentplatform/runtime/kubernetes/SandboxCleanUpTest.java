package dev.agentplatform.runtime.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The start-up clean-up against fabric8's mock API server in CRUD mode: the volume and secret of an agent that no
 * longer exists are removed only once older than the grace period, so a replica starting while another makes a new
 * agent's sandbox does not take the new agent's workspace away.
 */
@EnableKubernetesMockClient(crud = true)
class SandboxCleanUpTest {

  private static final String NS = KubernetesRuntimeTest.NS;

  KubernetesMockServer server;
  KubernetesClient client;

  private final KubernetesSettings settings = KubernetesRuntimeTest.settings("1.0", Duration.ofMinutes(5));
  private final SandboxObjects objects = new SandboxObjects(settings);

  /** A clean-up whose clock reads {@code now}. */
  private SandboxPods at(Instant now) {
    return new SandboxPods(client, settings, Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void aDeletedAgentsVolumeAndSecretGoOnlyOnceOlderThanTheGracePeriod() {
    // A deleted agent's volume and secret (or those of one another replica is making, not in this one's view yet),
    // and an existing agent's volume. The API server stamps each with its creation time.
    client.persistentVolumeClaims().inNamespace(NS).resource(objects.claim("u", "gone")).create();
    client.secrets().inNamespace(NS).resource(objects.secret("u", "gone", "s")).create();
    client.persistentVolumeClaims().inNamespace(NS).resource(objects.claim("u", "live")).create();
    Instant made = Instant.parse(client.persistentVolumeClaims().inNamespace(NS).withName("agent-gone-workspace")
        .get().getMetadata().getCreationTimestamp());

    int early = at(made.plusSeconds(30)).cleanUp(Set.of("live")::contains);

    assertEquals(0, early, "30 s old: maybe an agent being made");
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-gone-workspace").get());
    assertNotNull(client.secrets().inNamespace(NS).withName("agent-gone-runner").get());

    int late = at(made.plus(SandboxPods.CLEAN_UP_GRACE).plusSeconds(1)).cleanUp(Set.of("live")::contains);

    assertEquals(2, late, "past the grace period the agent was never made, or was deleted");
    assertNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-gone-workspace").get());
    assertNull(client.secrets().inNamespace(NS).withName("agent-gone-runner").get());
    assertNotNull(client.persistentVolumeClaims().inNamespace(NS).withName("agent-live-workspace").get(),
        "an existing agent's volume stays, however old");
  }
}
