package dev.agentplatform.runtime.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the kubernetes runtime concludes from the API server about its permissions in the sandbox namespace, against
 * fabric8's mock API server playing the authorizer: one SelfSubjectRulesReview read as RBAC reads rules, and access
 * reviews only for what an incomplete rules review does not show.
 */
@EnableKubernetesMockClient(crud = true)
class SandboxPermissionsTest {

  private static final String NS = KubernetesRuntimeTest.NS;
  private static final String RULES = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
  private static final String ACCESS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

  KubernetesMockServer server;
  KubernetesClient client;

  /** The namespaces the rules reviews asked about, and the "verb resource" of each access review. */
  private final List<String> rulesAsked = Collections.synchronizedList(new ArrayList<>());
  private final List<String> accessAsked = Collections.synchronizedList(new ArrayList<>());

  /** The rules of kubernetes/sandbox/role.yaml, as an API server lists them. */
  private static final List<ResourceRule> ROLE = List.of(
      rule(List.of(""), List.of("pods"), List.of("create", "get", "list", "watch", "delete")),
      rule(List.of(""), List.of("persistentvolumeclaims", "secrets"), List.of("create", "get", "list", "delete")),
      // What every authenticated account may do (system:basic-user).
      rule(List.of("authorization.k8s.io"), List.of("selfsubjectaccessreviews", "selfsubjectrulesreviews"), List.of(
          "create")));

  private SandboxPods pods() {
    return new SandboxPods(client, KubernetesRuntimeTest.settings("1.0", Duration.ofMinutes(5)));
  }

  /** The authorizer: a rules review lists {@code rules} (incomplete or not); an access review allows {@code also}. */
  private void authorizer(List<ResourceRule> rules, boolean incomplete, Set<String> also) {
    server.expect().post().withPath(RULES).andReply(201, request -> {
      SelfSubjectRulesReview asked = client.getKubernetesSerialization().unmarshal(request.getUtf8Body(),
          SelfSubjectRulesReview.class);
      rulesAsked.add(asked.getSpec().getNamespace());
      return new SelfSubjectRulesReviewBuilder(asked).withNewStatus().withResourceRules(NS.equals(asked.getSpec()
          .getNamespace()) ? rules : List.of()).withIncomplete(incomplete).withEvaluationError(incomplete
              ? "webhook authorizer does not support user rule resolution" : null).endStatus().build();
    }).always();
    server.expect().post().withPath(ACCESS).andReply(201, request -> {
      SelfSubjectAccessReview asked = client.getKubernetesSerialization().unmarshal(request.getUtf8Body(),
          SelfSubjectAccessReview.class);
      var a = asked.getSpec().getResourceAttributes();
      accessAsked.add(a.getVerb() + " " + a.getResource());
      boolean allowed = NS.equals(a.getNamespace()) && "".equals(a.getGroup()) && also.contains(a.getVerb() + " "
          + a.getResource());
      return new SelfSubjectAccessReviewBuilder(asked).withNewStatus().withAllowed(allowed).endStatus().build();
    }).always();
  }

  @Test
  void theRoleAsAppliedGrantsEverythingInOneReview() {
    authorizer(ROLE, false, Set.of());

    assertNull(pods().whyUnusable());

    assertEquals(List.of(NS), rulesAsked, "one rules review, for the sandbox namespace");
    assertEquals(List.of(), accessAsked, "complete rules: no access review");
  }

  @Test
  void aMissingVerbIsNamed() {
    authorizer(List.of(rule(List.of(""), List.of("pods"), List.of("create", "get", "list", "delete")), ROLE.get(1)),
        false, Set.of("watch pods"));

    String why = pods().whyUnusable();

    assertEquals("this platform's service account may not watch pods in namespace " + NS + " (kubernetes/sandbox:"
        + " the Role agent-sandbox-manager and its RoleBinding)", why);
    assertEquals(List.of(), accessAsked, "complete rules are the answer: an access review is not asked to overrule");
  }

  @Test
  void aWildcardOnEverythingGrantsIt() {
    authorizer(List.of(rule(List.of("*"), List.of("*"), List.of("*"))), false, Set.of());

    assertNull(pods().whyUnusable());
    assertEquals(List.of(), accessAsked);
  }

  @Test
  void wildcardVerbsAndResourcesGrantAsRbacReadsThem() {
    authorizer(List.of(rule(List.of(""), List.of("pods", "persistentvolumeclaims"), List.of("*")), rule(List.of(""),
        List.of("*"), List.of("create", "get", "list", "delete"))), false, Set.of());

    assertNull(pods().whyUnusable());
  }

  @Test
  void rulesThatOnlyLookAlikeGrantNothing() {
    authorizer(List.of(
        // Subresources only, not the pods themselves.
        rule(List.of(""), List.of("pods/*", "*/status"), List.of("*")),
        // Another API group's pods (metrics.k8s.io has some).
        rule(List.of("metrics.k8s.io"), List.of("pods"), List.of("*")),
        // Named objects only: not the agents' objects, which no rule can name in advance.
        new ResourceRuleBuilder(ROLE.get(0)).withResourceNames("agent-a1").build(),
        ROLE.get(1)), false, Set.of());

    assertEquals(List.of("create pods", "get pods", "list pods", "watch pods", "delete pods"), pods()
        .missingPermissions());
  }

  @Test
  void anIncompleteReviewIsCompletedByAccessReviewsForWhatItDoesNotShow() {
    // GKE: IAM, a webhook authorizer, cannot list its rules; here it allows the PVCs and all but one verb on secrets.
    authorizer(List.of(ROLE.get(0)), true, Set.of("create persistentvolumeclaims", "get persistentvolumeclaims",
        "list persistentvolumeclaims", "delete persistentvolumeclaims", "create secrets", "get secrets",
        "list secrets"));

    String why = pods().whyUnusable();

    assertEquals("this platform's service account may not delete secrets in namespace " + NS + " (kubernetes/sandbox:"
        + " the Role agent-sandbox-manager and its RoleBinding)", why);
    assertEquals(List.of("create persistentvolumeclaims", "get persistentvolumeclaims", "list persistentvolumeclaims",
        "delete persistentvolumeclaims", "create secrets", "get secrets", "list secrets", "delete secrets"),
        accessAsked, "asked about exactly what the rules do not show, not about pods");
  }

  @Test
  void anIncompleteReviewThatTheAccessReviewsCompleteIsEnough() {
    authorizer(List.of(), true, Set.of("create pods", "get pods", "list pods", "watch pods", "delete pods",
        "create persistentvolumeclaims", "get persistentvolumeclaims", "list persistentvolumeclaims",
        "delete persistentvolumeclaims", "create secrets", "get secrets", "list secrets", "delete secrets"));

    assertNull(pods().whyUnusable());
    assertEquals(13, accessAsked.size());
  }

  @Test
  void aRulesReviewWithoutAStatusCountsAsIncomplete() {
    server.expect().post().withPath(RULES).andReply(201, request -> client.getKubernetesSerialization().unmarshal(
        request.getUtf8Body(), SelfSubjectRulesReview.class)).always();
    allowAllBut("list secrets");

    assertEquals(List.of("list secrets"), pods().missingPermissions());
    assertEquals(13, accessAsked.size(), "every permission asked on its own");
  }

  @Test
  void anApiServerWithoutRulesReviewsIsAskedEachPermission() {
    server.expect().post().withPath(RULES).andReturn(404, Map.of("kind", "Status", "apiVersion", "v1", "status",
        "Failure", "reason", "NotFound", "code", 404)).always();
    allowAllBut("watch pods");

    assertEquals(List.of("watch pods"), pods().missingPermissions());
    assertEquals(13, accessAsked.size());
  }

  /** An access-review authorizer that allows everything in the namespace but {@code denied}. */
  private void allowAllBut(String denied) {
    server.expect().post().withPath(ACCESS).andReply(201, request -> {
      SelfSubjectAccessReview asked = client.getKubernetesSerialization().unmarshal(request.getUtf8Body(),
          SelfSubjectAccessReview.class);
      var a = asked.getSpec().getResourceAttributes();
      accessAsked.add(a.getVerb() + " " + a.getResource());
      return new SelfSubjectAccessReviewBuilder(asked).withNewStatus().withAllowed(NS.equals(a.getNamespace())
          && !denied.equals(a.getVerb() + " " + a.getResource())).endStatus().build();
    }).always();
  }

  @Test
  void anApiServerThatDoesNotAnswerIsSaid() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    KubernetesClient down = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl("https://"
        + "127.0.0.1:" + port).withRequestRetryBackoffLimit(0).withConnectionTimeout(2000).build()).build();
    try (SandboxPods pods = new SandboxPods(down, KubernetesRuntimeTest.settings("1.0", Duration.ofMinutes(5)))) {
      String why = pods.whyUnusable();
      assertTrue(why.startsWith("the Kubernetes API server at https://127.0.0.1:" + port + "/ does not answer: "),
          why);
    }
  }

  @Test
  void anApiServerThatRefusesTheCredentialsIsSaid() {
    server.expect().post().withPath(RULES).andReturn(401, Map.of("kind", "Status", "apiVersion", "v1", "status",
        "Failure", "message", "Unauthorized", "reason", "Unauthorized", "code", 401)).always();

    String why = pods().whyUnusable();

    assertTrue(why.startsWith("the Kubernetes API server at " + client.getMasterUrl() + " refuses this platform's"
        + " credentials (HTTP 401"), why);
  }

  @Test
  void anApiServerThatFailsTheCheckIsQuotedWithItsStatus() {
    server.expect().post().withPath(RULES).andReturn(500, Map.of("kind", "Status", "apiVersion", "v1", "status",
        "Failure", "message", "etcdserver: request timed out", "code", 500)).always();

    // Without the client's retries of a failed request (ten, over about 20 s): the answer is the same.
    KubernetesClient once = new KubernetesClientBuilder().withConfig(new ConfigBuilder(client.getConfiguration())
        .withRequestRetryBackoffLimit(0).build()).build();
    String why;
    try (SandboxPods pods = new SandboxPods(once, KubernetesRuntimeTest.settings("1.0", Duration.ofMinutes(5)))) {
      why = pods.whyUnusable();
    }

    assertTrue(why.startsWith("the Kubernetes API server at " + client.getMasterUrl() + " answers the permission"
        + " check with HTTP 500: "), why);
    assertTrue(why.contains("etcdserver: request timed out"), why);
  }

  @Test
  void inAClusterMeansTheServiceHostAndAToken(@TempDir Path dir) throws IOException {
    Path token = dir.resolve("token");
    assertEquals("not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not set)", SandboxPods.whyNotInCluster(
        Map.of(), token));
    assertEquals("in a Kubernetes cluster, but no service-account token is mounted at " + token + " (the pod's"
        + " automountServiceAccountToken is false)", SandboxPods.whyNotInCluster(Map.of("KUBERNETES_SERVICE_HOST",
            "10.0.0.1"), token));
    Files.writeString(token, "eyJ...");
    assertNull(SandboxPods.whyNotInCluster(Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1"), token));
  }

  private static ResourceRule rule(List<String> groups, List<String> resources, List<String> verbs) {
    return new ResourceRuleBuilder().withApiGroups(groups).withResources(resources).withVerbs(verbs).build();
  }
}
