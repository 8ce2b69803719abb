package dev.agentplatform.testing;

import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

/**
 * Makes fabric8's mock API server answer every SelfSubjectAccessReview and SelfSubjectRulesReview as allowed (its CRUD
 * mode would store them and answer without a status), for tests whose subject is not the permission check.
 */
public final class MockReviews {

  private MockReviews() {
  }

  /** Every access review allowed; every rules review lists one rule granting every verb on everything. */
  public static void allowEvery(KubernetesMockServer server, KubernetesClient client) {
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").andReply(200, r -> {
      SelfSubjectAccessReview asked = client.getKubernetesSerialization().unmarshal(r.getUtf8Body(),
          SelfSubjectAccessReview.class);
      return new SelfSubjectAccessReviewBuilder(asked).withNewStatus().withAllowed(true).endStatus().build();
    }).always();
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews").andReply(200, r -> {
      SelfSubjectRulesReview asked = client.getKubernetesSerialization().unmarshal(r.getUtf8Body(),
          SelfSubjectRulesReview.class);
      return new SelfSubjectRulesReviewBuilder(asked).withNewStatus().withIncomplete(false)
          .addNewResourceRule().withApiGroups("*").withResources("*").withVerbs("*").endResourceRule()
          .endStatus().build();
    }).always();
  }
}
