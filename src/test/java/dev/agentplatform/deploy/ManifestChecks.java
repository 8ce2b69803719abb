package dev.agentplatform.deploy;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The checks of a rendered GKE deployment of the platform: each object against GKE Autopilot's admission rules and
 * the pod security the platform asks for, and the server's objects against the application (probe paths and port,
 * documented configuration keys, the image's writable paths) and against what the GKE overlay must provide
 * (WebSocket-long backend timeout, HTTPS, Workload Identity, the NetworkPolicy, Managed Prometheus). Each finding
 * names its check, so a test can tell which rule a manifest broke.
 */
final class ManifestChecks {

  /** One rule broken by one object. */
  record Violation(String check, String object, String message) {
    @Override
    public String toString() {
      return check + " | " + object + " | " + message;
    }
  }

  /** The server's Deployment, container and service account, as the base names them. */
  static final String SERVER = "agent-platform";
  static final String CONTAINER = "server";
  static final String SERVICE_ACCOUNT = "ai-agent-ksa";

  /**
   * The HPA's ceiling until agents can move between replicas (the several-replicas issue raises it): an agent's
   * events are numbered in the memory of the one server that runs it.
   */
  static final int MAX_REPLICAS_FOR_NOW = 1;

  /** The shortest backend timeout that keeps a WebSocket open for an hour (the GKE default, 30 s, cuts it). */
  static final int MIN_BACKEND_TIMEOUT_SECONDS = 3600;

  /** Capabilities GKE Autopilot lets a container add (gke-autopilot note); this platform adds none at all. */
  static final Set<String> AUTOPILOT_CAPABILITIES = Set.of("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER",
      "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
      "SYS_CHROOT", "SYS_PTRACE");

  private static final Set<String> POD_OWNERS = Set.of("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job",
      "CronJob", "Pod");

  private final AppFacts app;
  private final List<Map<String, Object>> objects;
  private final List<Violation> found = new ArrayList<>();

  private ManifestChecks(AppFacts app, List<Map<String, Object>> objects) {
    this.app = app;
    this.objects = objects;
  }

  /** Every rule each object breaks, schema findings ({@code schemaErrors}, one list per object) included. */
  static List<Violation> check(AppFacts app, List<Map<String, Object>> objects, List<Tools.SchemaResult> schema) {
    ManifestChecks c = new ManifestChecks(app, objects);
    for (Tools.SchemaResult r : schema) {
      for (String e : r.errors()) {
        c.report("schema", r.kind() + "/" + r.name(), e);
      }
    }
    c.run();
    return List.copyOf(c.found);
  }

  private void run() {
    for (Map<String, Object> o : objects) {
      if (POD_OWNERS.contains(kind(o))) {
        Map<String, Object> pod = podSpec(o);
        autopilot(id(o), pod);
        podSecurity(id(o), pod);
      }
      if (kind(o).equals("Secret") && (map(o, "data") != null || map(o, "stringData") != null)) {
        report("secrets", id(o), "a Secret with data in the repository; create it with kubectl (docs/operations.md)");
      }
    }
    Map<String, Object> deployment = one("Deployment", SERVER);
    if (deployment == null) {
      return;
    }
    Map<String, Object> pod = podSpec(deployment);
    Map<String, Object> container = null;
    for (Map<String, Object> c : maps(pod, "containers")) {
      if (CONTAINER.equals(c.get("name"))) {
        container = c;
      }
    }
    if (container == null) {
      report("objects", id(deployment), "no container named " + CONTAINER);
      return;
    }
    Map<String, String> podLabels = strings(path(deployment, "spec", "template", "metadata", "labels"));
    settings = environmentValues(container);
    int port = httpPort(deployment, container);
    probes(deployment, container, port);
    environment(deployment, container);
    writablePaths(deployment, pod, container);
    serviceAccount(deployment, pod);
    hpa(deployment);
    selects("PodDisruptionBudget", SERVER, path(one("PodDisruptionBudget", SERVER), "spec", "selector"),
        podLabels);
    Map<String, Object> service = service(podLabels, container, port);
    ingress(service, port);
    networkPolicy(podLabels, port);
    podMonitoring(podLabels, container, port);
    rbac();
    sandbox(podLabels, String.valueOf(path(deployment, "metadata", "namespace")));
    kubernetesRuntime(deployment, pod);
  }

  /** The server's settings as the deployment gives them (env and its ConfigMaps), once the Deployment is found. */
  private Map<String, String> settings = Map.of();

  /** A setting of the server: as the deployment gives it, else the application's default. */
  private String setting(String key) {
    String set = settings.get(key);
    return set != null ? set : configDefault(key);
  }

  /** The default of a key, as {@code PlatformConfig} declares it ({@code @ConfigProperty(defaultValue)}). */
  static String configDefault(String key) {
    for (java.lang.reflect.Field f : dev.agentplatform.config.PlatformConfig.class.getDeclaredFields()) {
      ConfigProperty p = f.getAnnotation(ConfigProperty.class);
      if (p != null && p.name().equals(key)) {
        return p.defaultValue();
      }
    }
    throw new IllegalStateException("PlatformConfig reads no key " + key);
  }

  private String sandboxNamespace() {
    return setting("SANDBOX_NAMESPACE");
  }

  private int runnerPort() {
    String p = setting("SANDBOX_RUNNER_PORT");
    return p.matches("\\d{1,5}") ? Integer.parseInt(p) : -1;
  }

  // With AGENT_RUNTIME=kubernetes the server calls the API server as its service account (so it needs the token) and
  // reaches each sandbox pod's runner (so its NetworkPolicy must let it), and the cluster must be able to pull the
  // agent image.
  private void kubernetesRuntime(Map<String, Object> deployment, Map<String, Object> pod) {
    if (!"kubernetes".equals(setting("AGENT_RUNTIME"))) {
      return;
    }
    Object podToken = pod.get("automountServiceAccountToken");
    Object accountToken = path(one("ServiceAccount", SERVICE_ACCOUNT), "automountServiceAccountToken");
    if (Boolean.FALSE.equals(podToken) || podToken == null && Boolean.FALSE.equals(accountToken)) {
      report("sandbox", id(deployment), "AGENT_RUNTIME=kubernetes, but the pod mounts no service-account token"
          + " (automountServiceAccountToken: false): the runtime cannot call the API server");
    }
    String image = setting("SANDBOX_IMAGE");
    if (!image.matches("[a-z0-9.-]+(:[0-9]+)?/[^\\s]+")) {
      report("sandbox", id(deployment), "SANDBOX_IMAGE " + image + " names no registry: the cluster cannot pull it");
    }
    Map<String, Object> np = objects.stream().filter(o -> kind(o).equals("NetworkPolicy") && selectsLabels(path(o,
        "spec", "podSelector"), strings(path(deployment, "spec", "template", "metadata", "labels")))).findFirst()
        .orElse(null);
    boolean reaches = np != null && maps(map(np, "spec"), "egress").stream().anyMatch(r -> toSandboxes(r)
        && maps(r, "ports").stream().anyMatch(p -> Objects.equals(number(p.get("port")), runnerPort())));
    if (np != null && !reaches) {
      report("sandbox", id(np), "lets the server reach no sandbox pod's runner (port " + runnerPort() + " in "
          + sandboxNamespace() + ", SANDBOX_RUNNER_PORT)");
    }
    // Pods reach the API server at the control plane's internal address (Private Service Connect), which the rule
    // for public HTTPS leaves out: one address of its own, from settings.env.
    boolean apiServer = np != null && maps(map(np, "spec"), "egress").stream().anyMatch(r -> maps(r, "ports")
        .stream().anyMatch(p -> Objects.equals(number(p.get("port")), 443)) && maps(r, "to").stream().anyMatch(
            t -> String.valueOf(path(t, "ipBlock", "cidr")).matches("[0-9.]+/32")));
    if (np != null && !apiServer) {
      report("sandbox", id(np), "lets the server reach no Kubernetes API server address on 443 (settings.env"
          + " API_SERVER_CIDR)");
    }
  }

  /** Whether an egress rule goes only to the sandbox pods of the sandbox namespace (and names some). */
  private boolean toSandboxes(Map<String, Object> rule) {
    List<Map<String, Object>> to = maps(rule, "to");
    return !to.isEmpty() && to.stream().allMatch(t -> t.get("ipBlock") == null && selectsLabels(t.get(
        "namespaceSelector"), Map.of("kubernetes.io/metadata.name", sandboxNamespace())) && selectsLabels(t.get(
            "podSelector"), Map.of("app.kubernetes.io/name", SANDBOX_APP)));
  }

  /** The label value of every sandbox pod, as the runtime sets it. */
  static final String SANDBOX_APP = dev.agentplatform.runtime.kubernetes.SandboxObjects.APP_NAME;
  /** The metadata server: its HTTP port hands out the node's and Workload Identity's tokens. */
  static final String METADATA = "169.254.169.254";
  /** Where a pod's DNS may be answered besides kube-dns: Cloud DNS (Autopilot) and NodeLocal DNSCache. */
  static final Set<String> LINK_LOCAL_DNS = Set.of(METADATA + "/32", "169.254.20.10/32");

  // Least privilege: namespaced Roles only, no wildcard, and exactly what the kubernetes runtime checks it may do.
  private void rbac() {
    String namespace = sandboxNamespace();
    for (Map<String, Object> o : objects) {
      String kind = kind(o);
      if (kind.equals("ClusterRole") || kind.equals("ClusterRoleBinding")) {
        report("rbac", id(o), "a cluster-wide grant; the platform needs a Role in " + namespace + " only");
      }
      if (!kind.equals("Role") && !kind.equals("ClusterRole")) {
        continue;
      }
      if (kind.equals("Role") && !namespace.equals(path(o, "metadata", "namespace"))) {
        report("rbac", id(o), "is in namespace " + path(o, "metadata", "namespace") + ", not the sandbox namespace "
            + namespace + " (SANDBOX_NAMESPACE): it grants nothing where the runtime works");
      }
      Map<String, Set<String>> granted = new LinkedHashMap<>();
      for (Map<String, Object> rule : maps(o, "rules")) {
        List<String> groups = list(rule.get("apiGroups"));
        List<String> resources = list(rule.get("resources"));
        List<String> verbs = list(rule.get("verbs"));
        for (List<String> values : List.of(groups, resources, verbs)) {
          if (values.contains("*")) {
            report("rbac", id(o), "grants '*' (" + String.join(", ", values) + ")");
          }
        }
        if (!groups.equals(List.of(""))) {
          report("rbac", id(o), "grants API groups " + groups + "; the runtime uses the core group only");
        }
        for (String r : resources) {
          granted.computeIfAbsent(r, k -> new java.util.TreeSet<>()).addAll(verbs);
        }
      }
      Map<String, List<String>> needed = dev.agentplatform.runtime.kubernetes.SandboxPods.NEEDED;
      for (Map.Entry<String, Set<String>> g : granted.entrySet()) {
        Set<String> extra = new java.util.TreeSet<>(g.getValue());
        extra.removeAll(needed.getOrDefault(g.getKey(), List.of()));
        if (!extra.isEmpty()) {
          report("rbac", id(o), "grants " + extra + " on " + g.getKey() + ", which the runtime never does");
        }
      }
      for (Map.Entry<String, List<String>> n : needed.entrySet()) {
        Set<String> lacking = new java.util.TreeSet<>(n.getValue());
        lacking.removeAll(granted.getOrDefault(n.getKey(), Set.of()));
        if (!lacking.isEmpty()) {
          report("rbac", id(o), "lacks " + lacking + " on " + n.getKey() + " (readiness would be down)");
        }
      }
    }
    Map<String, Object> binding = objects.stream().filter(o -> kind(o).equals("RoleBinding")).findFirst()
        .orElse(null);
    if (binding == null) {
      report("rbac", "RoleBinding", "none gives the platform its Role in " + namespace);
      return;
    }
    Object roleName = path(binding, "roleRef", "name");
    Map<String, Object> role = "Role".equals(path(binding, "roleRef", "kind")) && roleName != null ? one("Role",
        String.valueOf(roleName)) : null;
    if (role == null || !namespace.equals(path(binding, "metadata", "namespace")) || !namespace.equals(path(role,
        "metadata", "namespace"))) {
      report("rbac", id(binding), "binds " + path(binding, "roleRef", "kind") + " " + roleName + " in "
          + path(binding, "metadata", "namespace") + ", not this deployment's Role in " + namespace);
    }
    boolean toServer = maps(binding, "subjects").stream().allMatch(s -> "ServiceAccount".equals(s.get("kind"))
        && SERVICE_ACCOUNT.equals(s.get("name")) && Objects.equals(s.get("namespace"), path(one("ServiceAccount",
            SERVICE_ACCOUNT), "metadata", "namespace")));
    if (!toServer || maps(binding, "subjects").isEmpty()) {
      report("rbac", id(binding), "binds someone other than the server's " + SERVICE_ACCOUNT);
    }
  }

  // The sandbox pods: their own namespace, an identity with no cloud role, and a NetworkPolicy that lets in only the
  // server, on the runner's port, and lets out only DNS and HTTPS to public addresses.
  private void sandbox(Map<String, String> serverLabels, String serverNamespace) {
    String ns = sandboxNamespace();
    int runnerPort = runnerPort();
    Map<String, Object> namespace = one("Namespace", ns);
    if (namespace == null) {
      report("sandbox", "Namespace/" + ns, "missing (SANDBOX_NAMESPACE)");
    } else {
      Object level = path(namespace, "metadata", "labels", "pod-security.kubernetes.io/enforce");
      if (!"baseline".equals(level) && !"restricted".equals(level)) {
        report("sandbox", "Namespace/" + ns, "enforces no Pod Security level (baseline or"
            + " restricted): the platform may create any pod there");
      }
    }
    String account = setting("SANDBOX_SERVICE_ACCOUNT");
    Map<String, Object> ksa = one("ServiceAccount", account);
    if (ksa == null || !ns.equals(path(ksa, "metadata", "namespace"))) {
      report("sandbox", "ServiceAccount/" + account, "missing in " + ns + " (SANDBOX_SERVICE_ACCOUNT)");
    } else {
      if (path(ksa, "metadata", "annotations", "iam.gke.io/gcp-service-account") != null) {
        report("sandbox", id(ksa), "has a Google service account: sandboxes get no cloud role");
      }
      if (!Boolean.FALSE.equals(ksa.get("automountServiceAccountToken"))) {
        report("sandbox", id(ksa), "automountServiceAccountToken is not false");
      }
    }
    Map<String, Object> np = objects.stream().filter(o -> kind(o).equals("NetworkPolicy") && ns.equals(path(o,
        "metadata", "namespace")) && selectsLabels(path(o, "spec", "podSelector"), Map.of("app.kubernetes.io/name",
            SANDBOX_APP))).findFirst().orElse(null);
    if (np == null) {
      report("sandbox", "NetworkPolicy", "none selects the sandbox pods in " + ns);
      return;
    }
    List<String> types = list(path(np, "spec", "policyTypes"));
    if (!types.contains("Ingress") || !types.contains("Egress")) {
      report("sandbox", id(np), "does not limit both Ingress and Egress");
    }
    boolean runnerReachable = false;
    for (Map<String, Object> rule : maps(map(np, "spec"), "ingress")) {
      List<Map<String, Object>> ports = maps(rule, "ports");
      if (ports.isEmpty()) {
        report("sandbox", id(np), "lets in more than the runner's port " + runnerPort);
      }
      for (Map<String, Object> p : ports) {
        if (Objects.equals(number(p.get("port")), runnerPort)) {
          runnerReachable = true;
        } else {
          report("sandbox", id(np), "lets in port " + p.get("port") + "; the runner listens on " + runnerPort
              + " (SANDBOX_RUNNER_PORT)");
        }
      }
      List<Map<String, Object>> from = maps(rule, "from");
      // A podSelector alone would select pods of the sandbox namespace: the server's namespace must be named too.
      if (from.isEmpty() || from.stream().anyMatch(f -> f.get("ipBlock") != null || !selectsLabels(f.get(
          "podSelector"), serverLabels) || !selectsLabels(f.get("namespaceSelector"), Map.of(
              "kubernetes.io/metadata.name", serverNamespace)))) {
        report("sandbox", id(np), "lets in more than the server's pods (in namespace " + serverNamespace + ")");
      }
    }
    if (!runnerReachable) {
      report("sandbox", id(np), "lets nobody reach the runner's port " + runnerPort + " (SANDBOX_RUNNER_PORT)");
    }
    for (Map<String, Object> rule : maps(map(np, "spec"), "egress")) {
      List<Map<String, Object>> to = maps(rule, "to");
      List<Map<String, Object>> ports = maps(rule, "ports");
      if (ports.isEmpty() || to.isEmpty()) {
        report("sandbox", id(np), "lets out every " + (ports.isEmpty() ? "port" : "address"));
        continue;
      }
      for (Map<String, Object> p : ports) {
        int n = intOr(p.get("port"), -1);
        if (n == 53) {
          boolean dns = to.stream().allMatch(t -> t.get("ipBlock") == null ? t.get("podSelector") != null
              : LINK_LOCAL_DNS.contains(String.valueOf(path(t, "ipBlock", "cidr"))));
          if (!dns) {
            report("sandbox", id(np), "lets out port 53 to more than the cluster's DNS");
          }
        } else if (to.stream().anyMatch(t -> t.get("ipBlock") == null || reaches(t.get("ipBlock"), METADATA))) {
          report("sandbox", id(np), "lets out port " + p.get("port") + " to " + (to.stream().anyMatch(t -> t.get(
              "ipBlock") == null) ? "the cluster's pods" : "the metadata server (" + METADATA + ")"));
        } else if (n == 443) {
          for (Map<String, Object> t : to) {
            List<String> except = list(path(t, "ipBlock", "except"));
            if (!except.containsAll(List.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"))) {
              report("sandbox", id(np), "lets out HTTPS to the cluster's private ranges (" + t + ")");
            }
          }
        } else {
          report("sandbox", id(np), "lets out port " + p.get("port"));
        }
      }
    }
  }

  /** Whether an ipBlock peer ({@code cidr} less its {@code except}) contains the IPv4 address. */
  @SuppressWarnings("unchecked")
  static boolean reaches(Object ipBlock, String address) {
    Map<String, Object> block = ipBlock instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    return contains(String.valueOf(block.get("cidr")), address) && list(block.get("except")).stream().noneMatch(
        e -> contains(e, address));
  }

  /** Whether the IPv4 CIDR contains the address (an IPv6 CIDR contains no IPv4 address). */
  static boolean contains(String cidr, String address) {
    String[] parts = cidr.split("/");
    if (parts.length != 2 || !parts[0].matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
      return false;
    }
    int bits = Integer.parseInt(parts[1]);
    long mask = bits == 0 ? 0 : 0xFFFFFFFFL << (32 - bits) & 0xFFFFFFFFL;
    return (ipv4(parts[0]) & mask) == (ipv4(address) & mask);
  }

  private static long ipv4(String address) {
    long n = 0;
    for (String octet : address.split("\\.")) {
      n = n << 8 | Integer.parseInt(octet);
    }
    return n;
  }

  // Autopilot's admission rules (GKE Warden), for every pod of every kind.
  private void autopilot(String where, Map<String, Object> pod) {
    for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
      if (Boolean.TRUE.equals(pod.get(host))) {
        report("autopilot", where, host + ": true is refused by Autopilot");
      }
    }
    long emptyDirBytes = 0;
    for (Map<String, Object> v : maps(pod, "volumes")) {
      if (v.containsKey("hostPath")) {
        report("autopilot", where, "volume " + v.get("name") + " is a hostPath, refused by Autopilot");
      }
      if (v.containsKey("emptyDir")) {
        Object limit = map(v, "emptyDir") == null ? null : map(v, "emptyDir").get("sizeLimit");
        if (limit == null) {
          report("autopilot", where, "emptyDir " + v.get("name") + " has no sizeLimit (it counts against the"
              + " ephemeral storage Autopilot reserves)");
        } else {
          emptyDirBytes += bytes(limit);
        }
      }
    }
    long ephemeral = 0;
    for (Map<String, Object> c : containers(pod)) {
      String name = where + " container " + c.get("name");
      Map<String, Object> sc = map(c, "securityContext");
      if (sc != null && Boolean.TRUE.equals(sc.get("privileged"))) {
        report("autopilot", name, "privileged: true is refused by Autopilot");
      }
      List<String> added = list(path(sc, "capabilities", "add"));
      for (String cap : added) {
        report("autopilot", name, "adds capability " + cap + (AUTOPILOT_CAPABILITIES.contains(cap)
            ? " (Autopilot allows it, this platform adds none)" : ", refused by Autopilot"));
      }
      for (Map<String, Object> p : maps(c, "ports")) {
        if (p.get("hostPort") != null) {
          report("autopilot", name, "hostPort " + p.get("hostPort") + " is refused by Autopilot");
        }
      }
      Map<String, Object> requests = map(map(c, "resources"), "requests");
      Object cpu = requests == null ? null : requests.get("cpu");
      Object memory = requests == null ? null : requests.get("memory");
      if (cpu == null || memory == null) {
        report("autopilot", name, "requests no cpu or memory (Autopilot would set its defaults)");
        continue;
      }
      double cores = cores(cpu);
      double gib = bytes(memory) / (double) (1L << 30);
      if (cores < 0.25 || gib < 0.5) {
        report("autopilot", name, "requests less than Autopilot's minimum 250m CPU and 512Mi (it would raise them)");
      }
      double ratio = gib / cores;
      if (ratio < 1 || ratio > 6.5) {
        report("autopilot", name, String.format("requests %s GiB of memory per vCPU; Autopilot accepts 1 to 6.5"
            + " (it would change the requests)", BigDecimal.valueOf(ratio).stripTrailingZeros().toPlainString()));
      }
      Object storage = requests.get("ephemeral-storage");
      ephemeral += storage == null ? 0 : bytes(storage);
    }
    if (ephemeral > 10L << 30) {
      report("autopilot", where, "requests more than Autopilot's 10 GiB of ephemeral storage");
    }
    if (emptyDirBytes > ephemeral) {
      report("autopilot", where, "its emptyDirs may hold " + emptyDirBytes + " bytes, more than the "
          + ephemeral + " bytes of ephemeral storage its containers request");
    }
  }

  // The pod security the platform asks for: non-root, read-only root, no escalation, no capabilities, seccomp.
  private void podSecurity(String where, Map<String, Object> pod) {
    Map<String, Object> podSc = map(pod, "securityContext");
    for (Map<String, Object> c : containers(pod)) {
      String name = where + " container " + c.get("name");
      Map<String, Object> sc = map(c, "securityContext");
      if (!Boolean.TRUE.equals(either(sc, podSc, "runAsNonRoot"))) {
        report("pod-security", name, "runAsNonRoot is not true");
      }
      Object uid = either(sc, podSc, "runAsUser");
      if (!(uid instanceof Number n) || n.longValue() == 0) {
        report("pod-security", name, "runAsUser is not a non-root uid (the image's is 1001)");
      }
      if (sc == null || !Boolean.TRUE.equals(sc.get("readOnlyRootFilesystem"))) {
        report("pod-security", name, "readOnlyRootFilesystem is not true");
      }
      if (sc == null || !Boolean.FALSE.equals(sc.get("allowPrivilegeEscalation"))) {
        report("pod-security", name, "allowPrivilegeEscalation is not false");
      }
      if (!list(path(sc, "capabilities", "drop")).contains("ALL")) {
        report("pod-security", name, "does not drop ALL capabilities");
      }
      Object seccomp = path(sc, "seccompProfile", "type");
      if (seccomp == null) {
        seccomp = path(podSc, "seccompProfile", "type");
      }
      if (!"RuntimeDefault".equals(seccomp)) {
        report("pod-security", name, "seccompProfile is not RuntimeDefault");
      }
    }
  }

  /** The port the server listens on: HTTP_PORT as the Deployment sets it, else server.xml's default. */
  private int httpPort(Map<String, Object> deployment, Map<String, Object> container) {
    String set = environmentValues(container).get("HTTP_PORT");
    int port = set == null ? app.httpPort() : Integer.parseInt(set);
    boolean declared = maps(container, "ports").stream().anyMatch(p -> Objects.equals(number(p.get(
        "containerPort")), port));
    if (!declared) {
      report("probes", id(deployment), "the container declares no containerPort " + port + " (HTTP_PORT)");
    }
    return port;
  }

  private void probes(Map<String, Object> deployment, Map<String, Object> container, int port) {
    String where = id(deployment) + " container " + CONTAINER;
    Map<String, String> probes = Map.of("started", "startupProbe", "live", "livenessProbe", "ready",
        "readinessProbe");
    for (String kind : List.of("started", "live", "ready")) {
      String field = probes.get(kind);
      String expected = app.healthPaths().get(kind);
      Map<String, Object> probe = map(container, field);
      Map<String, Object> get = map(probe, "httpGet");
      if (expected == null) {
        report("probes", where, "the application has no " + kind + " health check for the " + field);
      } else if (get == null) {
        report("probes", where, "no " + field + " with httpGet " + expected);
      } else {
        if (!expected.equals(get.get("path"))) {
          report("probes", where, field + " asks " + get.get("path") + ", the application answers it at "
              + expected);
        }
        Integer probed = containerPort(container, get.get("port"));
        if (probed == null || probed != port) {
          report("probes", where, field + " asks port " + get.get("port") + ", the server listens on " + port);
        }
        if (get.get("scheme") != null && !"HTTP".equals(get.get("scheme"))) {
          report("probes", where, field + " uses " + get.get("scheme") + "; the server's port is plain HTTP");
        }
      }
    }
    Map<String, Object> live = map(container, "livenessProbe");
    if (live != null && intOr(live.get("failureThreshold"), 3) < 2) {
      report("probes", where, "livenessProbe failureThreshold 1 restarts the pod on one slow answer");
    }
    Map<String, Object> start = map(container, "startupProbe");
    if (start != null) {
      int budget = intOr(start.get("initialDelaySeconds"), 0) + intOr(start.get("periodSeconds"), 10) * intOr(start
          .get("failureThreshold"), 3);
      if (budget < 60) {
        report("probes", where, "startupProbe gives the server " + budget + " s to start; allow at least 60 s"
            + " (twice the 30 s assumed on Autopilot)");
      }
    }
  }

  // Every variable the server gets is a documented key; the API key only ever from a Secret.
  private void environment(Map<String, Object> deployment, Map<String, Object> container) {
    String where = id(deployment) + " container " + CONTAINER;
    for (Map<String, Object> e : maps(container, "env")) {
      String name = String.valueOf(e.get("name"));
      if (!app.documentedKeys().contains(name)) {
        report("env-documented", where, "env " + name + " is not a key documented in docs/configuration.md");
      }
    }
    for (Map<String, Object> from : maps(container, "envFrom")) {
      String cm = (String) path(from, "configMapRef", "name");
      if (cm == null) {
        report("env-documented", where, "envFrom other than a ConfigMap of this deployment (its keys cannot be"
            + " checked)");
        continue;
      }
      Map<String, Object> configMap = one("ConfigMap", cm);
      if (configMap == null) {
        report("env-documented", where, "envFrom ConfigMap " + cm + " is not part of the deployment");
        continue;
      }
      for (String key : strings(configMap.get("data")).keySet()) {
        if (!app.documentedKeys().contains(key)) {
          report("env-documented", id(configMap), "key " + key + " is not a key documented in"
              + " docs/configuration.md");
        }
        if (key.equals("ANTHROPIC_API_KEY")) {
          report("secrets", id(configMap), "ANTHROPIC_API_KEY in a ConfigMap; it belongs in a Secret");
        }
      }
    }
    Map<String, Object> apiKey = maps(container, "env").stream().filter(e -> "ANTHROPIC_API_KEY".equals(e.get(
        "name"))).findFirst().orElse(null);
    if (apiKey == null || apiKey.get("value") != null || path(apiKey, "valueFrom", "secretKeyRef", "name") == null) {
      report("secrets", where, "ANTHROPIC_API_KEY must come from a Secret (env valueFrom.secretKeyRef)");
    }
    Map<String, String> values = environmentValues(container);
    if ("firestore".equals(values.get("STORE")) && values.get("FIRESTORE_PROJECT_ID") == null && values.get(
        "GOOGLE_CLOUD_PROJECT") == null) {
      report("env-documented", where, "STORE=firestore without FIRESTORE_PROJECT_ID");
    }
  }

  // Each path the image writes is an emptyDir mounted there, writable.
  private void writablePaths(Map<String, Object> deployment, Map<String, Object> pod, Map<String, Object> container) {
    String where = id(deployment) + " container " + CONTAINER;
    Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
    for (Map<String, Object> v : maps(pod, "volumes")) {
      volumes.put(String.valueOf(v.get("name")), v);
    }
    for (String path : app.writablePaths()) {
      Map<String, Object> mount = maps(container, "volumeMounts").stream().filter(m -> path.equals(m.get(
          "mountPath"))).findFirst().orElse(null);
      if (mount == null) {
        report("writable-paths", where, path + " (the image writes there) is not mounted");
        continue;
      }
      if (Boolean.TRUE.equals(mount.get("readOnly"))) {
        report("writable-paths", where, path + " is mounted read-only");
      }
      Map<String, Object> volume = volumes.get(String.valueOf(mount.get("name")));
      if (volume == null || !volume.containsKey("emptyDir")) {
        report("writable-paths", where, path + " is not an emptyDir");
      }
    }
  }

  private void serviceAccount(Map<String, Object> deployment, Map<String, Object> pod) {
    if (!SERVICE_ACCOUNT.equals(pod.get("serviceAccountName"))) {
      report("workload-identity", id(deployment), "runs as " + pod.get("serviceAccountName") + ", not "
          + SERVICE_ACCOUNT);
    }
    Map<String, Object> ksa = one("ServiceAccount", SERVICE_ACCOUNT);
    Object gsa = ksa == null ? null : path(ksa, "metadata", "annotations", "iam.gke.io/gcp-service-account");
    if (gsa == null || !String.valueOf(gsa).matches("[a-z][-a-z0-9]*@[-a-z0-9]+\\.iam\\.gserviceaccount\\.com")) {
      report("workload-identity", "ServiceAccount/" + SERVICE_ACCOUNT, "no iam.gke.io/gcp-service-account"
          + " annotation naming a Google service account (" + gsa + ")");
    }
  }

  private void hpa(Map<String, Object> deployment) {
    Map<String, Object> hpa = objects.stream().filter(o -> kind(o).equals("HorizontalPodAutoscaler") && SERVER
        .equals(path(o, "spec", "scaleTargetRef", "name"))).findFirst().orElse(null);
    if (hpa == null) {
      report("hpa", id(deployment), "no HorizontalPodAutoscaler scales it");
      return;
    }
    if (!"autoscaling/v2".equals(hpa.get("apiVersion"))) {
      report("hpa", id(hpa), "is " + hpa.get("apiVersion") + ", not autoscaling/v2");
    }
    int max = intOr(path(hpa, "spec", "maxReplicas"), 0);
    if (max > MAX_REPLICAS_FOR_NOW) {
      report("hpa", id(hpa), "maxReplicas " + max + ": more than " + MAX_REPLICAS_FOR_NOW + " replica is unsafe"
          + " until agents can move between replicas");
    }
    boolean cpu80 = maps(map(hpa, "spec"), "metrics").stream()
        .anyMatch(m -> "cpu".equals(path(m, "resource", "name")) && Objects.equals(number(path(m, "resource",
            "target", "averageUtilization")), 80));
    if (!cpu80) {
      report("hpa", id(hpa), "does not target 80 % CPU utilisation");
    }
  }

  private Map<String, Object> service(Map<String, String> podLabels, Map<String, Object> container, int port) {
    Map<String, Object> service = one("Service", SERVER);
    if (service == null) {
      report("objects", "Service/" + SERVER, "missing");
      return null;
    }
    if (!podLabels.entrySet().containsAll(strings(path(service, "spec", "selector")).entrySet()) || strings(path(
        service, "spec", "selector")).isEmpty()) {
      report("ingress", id(service), "its selector does not select the server's pods");
    }
    for (Map<String, Object> p : maps(map(service, "spec"), "ports")) {
      Integer target = containerPort(container, p.get("targetPort"));
      if (target == null || target != port) {
        report("ingress", id(service), "port " + p.get("name") + " sends to " + p.get("targetPort")
            + ", the server listens on " + port);
      }
    }
    return service;
  }

  private void ingress(Map<String, Object> service, int port) {
    Map<String, Object> ingress = one("Ingress", SERVER);
    if (ingress == null || service == null) {
      report("ingress", "Ingress/" + SERVER, "missing");
      return;
    }
    Map<String, String> a = strings(path(ingress, "metadata", "annotations"));
    if (!"gce".equals(a.get("kubernetes.io/ingress.class"))) {
      report("ingress", id(ingress), "is not of class gce (annotation kubernetes.io/ingress.class)");
    }
    if (a.getOrDefault("kubernetes.io/ingress.global-static-ip-name", "").isBlank()) {
      report("ingress", id(ingress), "names no static IP (kubernetes.io/ingress.global-static-ip-name)");
    }
    String certs = a.getOrDefault("networking.gke.io/managed-certificates", "");
    for (String cert : certs.split(",")) {
      Map<String, Object> c = one("ManagedCertificate", cert.trim());
      if (c == null || list(path(c, "spec", "domains")).isEmpty()) {
        report("ingress", id(ingress), "its ManagedCertificate '" + cert.trim() + "' is missing or has no domain");
      }
    }
    Map<String, Object> frontend = one("FrontendConfig", a.getOrDefault("networking.gke.io/v1beta1.FrontendConfig",
        ""));
    if (frontend == null || !Boolean.TRUE.equals(path(frontend, "spec", "redirectToHttps", "enabled"))) {
      report("ingress", id(ingress), "has no FrontendConfig that redirects HTTP to HTTPS");
    }
    Object backend = path(ingress, "spec", "defaultBackend", "service", "name");
    if (!SERVER.equals(backend)) {
      report("ingress", id(ingress), "does not send to the Service " + SERVER);
    }
    Map<String, String> sa = strings(path(service, "metadata", "annotations"));
    String neg = sa.get("cloud.google.com/neg");
    if (neg == null || !json(neg).getBoolean("ingress", false)) {
      report("ingress", id(service), "is not container-native (cloud.google.com/neg {\"ingress\": true})");
    }
    String ref = sa.get("cloud.google.com/backend-config");
    JsonObject refs = ref == null ? null : json(ref);
    String name = null;
    if (refs != null && refs.get("default") instanceof JsonString d) {
      name = d.getString();
    } else if (refs != null && refs.get("ports") instanceof JsonObject ports) {
      for (Map<String, Object> p : maps(map(service, "spec"), "ports")) {
        if (ports.get(String.valueOf(p.get("name"))) instanceof JsonString named) {
          name = named.getString();
        }
      }
    }
    Map<String, Object> bc = name == null ? null : one("BackendConfig", name);
    if (bc == null) {
      report("backend-config", id(service), "no BackendConfig of this deployment is attached"
          + " (cloud.google.com/backend-config)");
      return;
    }
    int timeout = intOr(path(bc, "spec", "timeoutSec"), 30);
    if (timeout < MIN_BACKEND_TIMEOUT_SECONDS) {
      report("backend-config", id(bc), "timeoutSec " + timeout + " cuts every WebSocket after " + timeout
          + " s; at least " + MIN_BACKEND_TIMEOUT_SECONDS);
    }
    if (intOr(path(bc, "spec", "connectionDraining", "drainingTimeoutSec"), 0) <= 0) {
      report("backend-config", id(bc), "no connectionDraining");
    }
    Object check = path(bc, "spec", "healthCheck", "requestPath");
    if (!Objects.equals(check, app.healthPaths().get("ready"))) {
      report("backend-config", id(bc), "the health check asks " + check + ", not the readiness endpoint "
          + app.healthPaths().get("ready"));
    }
    if (!Objects.equals(number(path(bc, "spec", "healthCheck", "port")), port)) {
      report("backend-config", id(bc), "the health check asks port " + path(bc, "spec", "healthCheck", "port")
          + ", the server listens on " + port);
    }
  }

  // Ingress only to the HTTP port; egress only DNS, HTTPS and the metadata server.
  private void networkPolicy(Map<String, String> podLabels, int port) {
    Map<String, Object> np = objects.stream().filter(o -> kind(o).equals("NetworkPolicy") && selectsLabels(path(o,
        "spec", "podSelector"), podLabels)).findFirst().orElse(null);
    if (np == null) {
      report("network-policy", "NetworkPolicy", "none selects the server's pods");
      return;
    }
    List<String> types = list(path(np, "spec", "policyTypes"));
    if (!types.contains("Ingress") || !types.contains("Egress")) {
      report("network-policy", id(np), "does not limit both Ingress and Egress");
    }
    for (Map<String, Object> rule : maps(map(np, "spec"), "ingress")) {
      List<Map<String, Object>> ports = maps(rule, "ports");
      if (ports.isEmpty() || ports.stream().anyMatch(p -> !Objects.equals(number(p.get("port")), port))) {
        report("network-policy", id(np), "lets in more than the HTTP port " + port);
      }
      if (maps(rule, "from").isEmpty()) {
        report("network-policy", id(np), "lets in from anywhere");
      }
    }
    for (Map<String, Object> rule : maps(map(np, "spec"), "egress")) {
      List<Map<String, Object>> ports = maps(rule, "ports");
      Set<String> to = new HashSet<>();
      for (Map<String, Object> peer : maps(rule, "to")) {
        to.add(String.valueOf(path(peer, "ipBlock", "cidr")));
      }
      for (Map<String, Object> p : ports) {
        int n = intOr(p.get("port"), -1);
        boolean allowed = n == 53 || n == 443 || n == 80 && to.equals(Set.of("169.254.169.254/32"))
            || n == 988 && to.equals(Set.of("169.254.169.252/32")) || n == runnerPort() && toSandboxes(rule);
        if (!allowed) {
          report("network-policy", id(np), "lets out port " + p.get("port") + " to " + to);
        }
      }
      if (ports.isEmpty()) {
        report("network-policy", id(np), "lets out every port to " + (to.isEmpty() ? "anywhere" : to));
      }
    }
  }

  private void podMonitoring(Map<String, String> podLabels, Map<String, Object> container, int port) {
    Map<String, Object> pm = objects.stream().filter(o -> kind(o).equals("PodMonitoring") && selectsLabels(path(o,
        "spec", "selector"), podLabels)).findFirst().orElse(null);
    if (pm == null) {
      report("metrics", "PodMonitoring", "none scrapes the server's pods");
      return;
    }
    boolean metrics = maps(map(pm, "spec"), "endpoints").stream().anyMatch(e -> "/metrics".equals(e.getOrDefault(
        "path", "/metrics")) && Objects.equals(containerPort(container, e.get("port")), port));
    if (!metrics) {
      report("metrics", id(pm), "scrapes no /metrics on the server's port " + port);
    }
  }

  private void selects(String kind, String name, Object selector, Map<String, String> podLabels) {
    if (selector == null) {
      report("objects", kind + "/" + name, "missing");
    } else if (!selectsLabels(selector, podLabels)) {
      report("objects", kind + "/" + name, "does not select the server's pods");
    }
  }

  // Helpers over the parsed YAML (maps, lists, scalars).

  private void report(String check, String object, String message) {
    found.add(new Violation(check, object, message));
  }

  private static boolean selectsLabels(Object selector, Map<String, String> labels) {
    Map<String, String> match = strings(selector instanceof Map<?, ?> m ? m.get("matchLabels") : null);
    return !match.isEmpty() && labels.entrySet().containsAll(match.entrySet());
  }

  /** The value of env and ConfigMap keys the container gets (a Secret's keys are not known here). */
  private Map<String, String> environmentValues(Map<String, Object> container) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Map<String, Object> from : maps(container, "envFrom")) {
      Map<String, Object> cm = one("ConfigMap", String.valueOf(path(from, "configMapRef", "name")));
      if (cm != null) {
        values.putAll(strings(cm.get("data")));
      }
    }
    for (Map<String, Object> e : maps(container, "env")) {
      if (e.get("value") != null) {
        values.put(String.valueOf(e.get("name")), String.valueOf(e.get("value")));
      }
    }
    return values;
  }

  /** A port as a number or a container port's name, as the container's number; null when it names none. */
  private static Integer containerPort(Map<String, Object> container, Object port) {
    if (port instanceof Number n) {
      return n.intValue();
    }
    for (Map<String, Object> p : maps(container, "ports")) {
      if (Objects.equals(p.get("name"), port)) {
        return number(p.get("containerPort"));
      }
    }
    return port instanceof String s && s.matches("\\d+") ? Integer.valueOf(s) : null;
  }

  private Map<String, Object> one(String kind, String name) {
    return objects.stream().filter(o -> kind(o).equals(kind) && name.equals(path(o, "metadata", "name")))
        .findFirst().orElse(null);
  }

  private static Map<String, Object> podSpec(Map<String, Object> o) {
    Object spec = switch (kind(o)) {
      case "Pod" -> o.get("spec");
      case "CronJob" -> path(o, "spec", "jobTemplate", "spec", "template", "spec");
      default -> path(o, "spec", "template", "spec");
    };
    return spec instanceof Map<?, ?> ? asMap(spec) : Map.of();
  }

  private static List<Map<String, Object>> containers(Map<String, Object> pod) {
    List<Map<String, Object>> all = new ArrayList<>(maps(pod, "initContainers"));
    all.addAll(maps(pod, "containers"));
    return all;
  }

  private static String kind(Map<String, Object> o) {
    return String.valueOf(o.get("kind"));
  }

  private static String id(Map<String, Object> o) {
    return kind(o) + "/" + path(o, "metadata", "name");
  }

  private static Object either(Map<String, Object> first, Map<String, Object> second, String key) {
    Object v = first == null ? null : first.get(key);
    return v != null ? v : second == null ? null : second.get(key);
  }

  private static Object path(Object o, String... keys) {
    Object at = o;
    for (String k : keys) {
      if (!(at instanceof Map<?, ?> m)) {
        return null;
      }
      at = m.get(k);
    }
    return at;
  }

  private static Map<String, Object> map(Map<String, Object> o, String key) {
    return o == null ? null : asMap(o.get(key));
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> maps(Map<String, Object> o, String key) {
    Object v = o == null ? null : o.get(key);
    if (!(v instanceof List<?> list)) {
      return List.of();
    }
    return list.stream().filter(e -> e instanceof Map<?, ?>).map(e -> (Map<String, Object>) e).toList();
  }

  private static List<String> list(Object list) {
    return list instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
  }

  private static Map<String, String> strings(Object map) {
    Map<String, String> out = new LinkedHashMap<>();
    if (map instanceof Map<?, ?> m) {
      m.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return o instanceof Map<?, ?> ? (Map<String, Object>) o : null;
  }

  private static Integer number(Object o) {
    return o instanceof Number n ? Integer.valueOf(n.intValue()) : null;
  }

  private static int intOr(Object o, int otherwise) {
    return o instanceof Number n ? n.intValue() : otherwise;
  }

  private static JsonObject json(String text) {
    try (JsonReader r = Json.createReader(new StringReader(text))) {
      JsonValue v = r.readValue();
      return v instanceof JsonObject obj ? obj : JsonValue.EMPTY_JSON_OBJECT;
    } catch (RuntimeException e) {
      return JsonValue.EMPTY_JSON_OBJECT;
    }
  }

  private static final Pattern QUANTITY = Pattern.compile("([0-9.]+)([a-zA-Z]*)");

  /** A CPU quantity ({@code 500m}, {@code 1}, {@code 0.5}) in cores. */
  static double cores(Object quantity) {
    Matcher m = QUANTITY.matcher(String.valueOf(quantity));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a CPU quantity: " + quantity);
    }
    double n = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "" -> n;
      case "m" -> n / 1000;
      default -> throw new IllegalArgumentException("not a CPU quantity: " + quantity);
    };
  }

  /** A byte quantity ({@code 512Mi}, {@code 1Gi}, {@code 2G}, {@code 1000}) in bytes. */
  static long bytes(Object quantity) {
    Matcher m = QUANTITY.matcher(String.valueOf(quantity));
    if (!m.matches()) {
      throw new IllegalArgumentException("not a byte quantity: " + quantity);
    }
    double n = Double.parseDouble(m.group(1));
    double unit = switch (m.group(2)) {
      case "" -> 1;
      case "k" -> 1e3;
      case "M" -> 1e6;
      case "G" -> 1e9;
      case "T" -> 1e12;
      case "Ki" -> 1L << 10;
      case "Mi" -> 1L << 20;
      case "Gi" -> 1L << 30;
      case "Ti" -> 1L << 40;
      default -> throw new IllegalArgumentException("not a byte quantity: " + quantity);
    };
    return (long) (n * unit);
  }
}
