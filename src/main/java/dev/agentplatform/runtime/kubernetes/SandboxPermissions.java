package dev.agentplatform.runtime.kubernetes;

import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a SelfSubjectRulesReview's rules as the API server's RBAC authorizer would: which of the permissions the
 * runtime needs in the sandbox namespace ({@link SandboxPods#NEEDED}) they grant, and which they do not show.
 */
final class SandboxPermissions {

  /** One thing the runtime does: a verb on a resource of the core API group. */
  record Permission(String verb, String resource) {
    @Override
    public String toString() {
      return verb + " " + resource;
    }
  }

  private SandboxPermissions() {
  }

  /** Every permission of {@code needed} (resource to verbs), in the order of {@code order}. */
  static List<Permission> all(Map<String, List<String>> needed, List<String> order) {
    List<Permission> all = new ArrayList<>();
    for (String resource : order) {
      for (String verb : needed.get(resource)) {
        all.add(new Permission(verb, resource));
      }
    }
    return all;
  }

  /** The permissions of {@code wanted} that no rule grants, in their order. */
  static List<Permission> notGranted(List<Permission> wanted, List<ResourceRule> rules) {
    return wanted.stream().filter(p -> rules.stream().noneMatch(r -> grants(r, p))).toList();
  }

  /**
   * Whether the rule grants the permission on any object of the namespace: its API groups, resources and verbs name
   * the core group, the resource and the verb (or {@code *}), and it names no objects. A rule limited to some
   * resourceNames never grants it: the runtime creates, lists and watches, and gets and deletes objects named after
   * agents that no rule could list in advance.
   */
  static boolean grants(ResourceRule rule, Permission p) {
    return matches(rule.getApiGroups(), "") && matches(rule.getResources(), p.resource())
        && matches(rule.getVerbs(), p.verb())
        && (rule.getResourceNames() == null || rule.getResourceNames().isEmpty());
  }

  // "*" stands for every value; "pods/*" or "*/status" name subresources only, never the resource itself.
  private static boolean matches(List<String> values, String wanted) {
    return values != null && (values.contains("*") || values.contains(wanted));
  }
}
