package dev.agentplatform.config;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Every configuration key of the platform in one place (MicroProfile Config); each name is also its
 * environment variable, and docs/configuration.md lists them all with their defaults.
 */
@ApplicationScoped
public class PlatformConfig {

  @Inject
  @ConfigProperty(name = "DISABLE_DOCKER", defaultValue = "false")
  boolean disableDocker;

  @Inject
  @ConfigProperty(name = "AGENT_RUNTIME", defaultValue = "auto")
  String runtime;

  @Inject
  @ConfigProperty(name = "PLATFORM_VERSION", defaultValue = "dev")
  String platformVersion;

  @Inject
  @ConfigProperty(name = "DOCKER_HOST", defaultValue = "unix:///var/run/docker.sock")
  String dockerHost;

  @Inject
  @ConfigProperty(name = "DOCKER_IMAGE", defaultValue = "agent-platform-agent:latest")
  String dockerImage;

  @Inject
  @ConfigProperty(name = "DOCKER_CONTAINER_PREFIX", defaultValue = "agent-platform")
  String dockerPrefix;

  @Inject
  @ConfigProperty(name = "DOCKER_USER", defaultValue = "1000:1000")
  String dockerUser;

  @Inject
  @ConfigProperty(name = "DOCKER_NETWORK", defaultValue = "bridge")
  String dockerNetwork;

  @Inject
  @ConfigProperty(name = "DOCKER_MEMORY", defaultValue = "4g")
  String dockerMemory;

  @Inject
  @ConfigProperty(name = "DOCKER_CPUS", defaultValue = "2")
  String dockerCpus;

  @Inject
  @ConfigProperty(name = "DOCKER_PIDS_LIMIT", defaultValue = "1024")
  long dockerPidsLimit;

  @Inject
  @ConfigProperty(name = "DOCKER_WORKSPACE", defaultValue = "/workspace")
  String dockerWorkspace;

  @Inject
  @ConfigProperty(name = "DOCKER_CLI_PATH", defaultValue = "claude")
  String dockerCliPath;

  @Inject
  @ConfigProperty(name = "DOCKER_IDLE_STOP_SECONDS", defaultValue = "900")
  long dockerIdleStopSeconds;

  @Inject
  @ConfigProperty(name = "DOCKER_IDLE_REMOVE_SECONDS", defaultValue = "86400")
  long dockerIdleRemoveSeconds;

  @Inject
  @ConfigProperty(name = "SANDBOX_NAMESPACE", defaultValue = "agent-sandboxes")
  String sandboxNamespace;

  @Inject
  @ConfigProperty(name = "SANDBOX_INSTALLATION", defaultValue = "agent-platform")
  String sandboxInstallation;

  @Inject
  @ConfigProperty(name = "SANDBOX_RUNTIME_CLASS", defaultValue = "gvisor")
  Optional<String> sandboxRuntimeClass;

  @Inject
  @ConfigProperty(name = "SANDBOX_IMAGE", defaultValue = "agent-platform-agent:latest")
  String sandboxImage;

  @Inject
  @ConfigProperty(name = "SANDBOX_CPU", defaultValue = "500m")
  String sandboxCpu;

  @Inject
  @ConfigProperty(name = "SANDBOX_MEMORY", defaultValue = "1Gi")
  String sandboxMemory;

  @Inject
  @ConfigProperty(name = "SANDBOX_STORAGE_SIZE", defaultValue = "5Gi")
  String sandboxStorageSize;

  @Inject
  @ConfigProperty(name = "SANDBOX_STORAGE_CLASS", defaultValue = " ")
  String sandboxStorageClass;

  @Inject
  @ConfigProperty(name = "SANDBOX_SERVICE_ACCOUNT", defaultValue = "agent-sandbox")
  String sandboxServiceAccount;

  @Inject
  @ConfigProperty(name = "SANDBOX_RUNNER_PORT", defaultValue = "8888")
  int sandboxRunnerPort;

  @Inject
  @ConfigProperty(name = "SANDBOX_CLI_PATH", defaultValue = "claude")
  String sandboxCliPath;

  @Inject
  @ConfigProperty(name = "SANDBOX_WORKSPACE", defaultValue = "/workspace")
  String sandboxWorkspace;

  @Inject
  @ConfigProperty(name = "STORE", defaultValue = "auto")
  String store;

  @Inject
  @ConfigProperty(name = "FIRESTORE_PROJECT_ID")
  Optional<String> firestoreProjectId;

  @Inject
  @ConfigProperty(name = "GOOGLE_CLOUD_PROJECT")
  Optional<String> googleCloudProject;

  @Inject
  @ConfigProperty(name = "FIRESTORE_EMULATOR_HOST")
  Optional<String> firestoreEmulatorHost;

  @Inject
  @ConfigProperty(name = "FIRESTORE_DATABASE_ID", defaultValue = "(default)")
  String firestoreDatabaseId;

  @Inject
  @ConfigProperty(name = "DATA_DIR")
  Optional<String> dataDir;

  @Inject
  @ConfigProperty(name = "WORKSPACE_ROOT")
  Optional<String> workspaceRoot;

  @Inject
  @ConfigProperty(name = "CLAUDE_CLI_PATH", defaultValue = "claude")
  String cliPath;

  @Inject
  @ConfigProperty(name = "CLI_RUN_AS_UID", defaultValue = "65534")
  int runAsUid;

  @Inject
  @ConfigProperty(name = "CLI_RUN_AS_GID", defaultValue = "65534")
  int runAsGid;

  @Inject
  @ConfigProperty(name = "SANDBOX", defaultValue = "auto")
  String sandbox;

  @Inject
  @ConfigProperty(name = "ALLOW_UNSANDBOXED_USERS", defaultValue = "false")
  boolean allowUnsandboxedUsers;

  @Inject
  @ConfigProperty(name = "CLI_PERMISSION_MODE", defaultValue = "default")
  String permissionMode;

  @Inject
  @ConfigProperty(name = "CLI_IDLE_SECONDS", defaultValue = "300")
  long cliIdleSeconds;

  @Inject
  @ConfigProperty(name = "REPLICA_ID")
  Optional<String> replicaId;

  @Inject
  @ConfigProperty(name = "LEASE_SECONDS", defaultValue = "15")
  long leaseSeconds;

  @Inject
  @ConfigProperty(name = "REPLICATION", defaultValue = "single")
  String replication;

  @Inject
  @ConfigProperty(name = "CLI_WARM_LIMIT", defaultValue = "16")
  int cliWarmLimit;

  @Inject
  @ConfigProperty(name = "CLI_PASS_ENV", defaultValue = " ")
  List<String> cliPassEnv;

  @Inject
  @ConfigProperty(name = "ANTHROPIC_API_KEY")
  Optional<String> anthropicApiKey;

  @Inject
  @ConfigProperty(name = "ANTHROPIC_BASE_URL")
  Optional<String> anthropicBaseUrl;

  @Inject
  @ConfigProperty(name = "TURN_TIMEOUT_SECONDS", defaultValue = "900")
  long turnTimeoutSeconds;

  @Inject
  @ConfigProperty(name = "TURN_OUTPUT_LIMIT_BYTES", defaultValue = "33554432")
  long turnOutputLimitBytes;

  @Inject
  @ConfigProperty(name = "MAX_FRAME_BYTES", defaultValue = "262144")
  int maxFrameBytes;

  @Inject
  @ConfigProperty(name = "MAX_MESSAGE_CHARS", defaultValue = "100000")
  int maxMessageChars;

  @Inject
  @ConfigProperty(name = "SESSION_SEND_QUEUE_LIMIT", defaultValue = "20000")
  int sessionSendQueueLimit;

  @Inject
  @ConfigProperty(name = "DEFAULT_MODEL", defaultValue = " ")
  String defaultModel;

  @Inject
  @ConfigProperty(name = "AUTH_MODE", defaultValue = "default")
  String authMode;

  @Inject
  @ConfigProperty(name = "AUTH_DEFAULT_USER", defaultValue = "local")
  String authDefaultUser;

  @Inject
  @ConfigProperty(name = "AUTH_USER_HEADER", defaultValue = "X-Forwarded-User")
  String authUserHeader;

  @Inject
  @ConfigProperty(name = "ALLOWED_ORIGINS", defaultValue = " ")
  List<String> allowedOrigins;

  @Inject
  @ConfigProperty(name = "SESSION_PING_SECONDS", defaultValue = "30")
  long sessionPingSeconds;

  @Inject
  @ConfigProperty(name = "SESSION_PONG_TIMEOUT_SECONDS", defaultValue = "75")
  long sessionPongTimeoutSeconds;

  public boolean disableDocker() {
    return disableDocker;
  }

  /** The runtime name: {@code auto}, {@code docker}, {@code kubernetes}, {@code process} or {@code simulated}. */
  public String runtime() {
    return runtime.trim().toLowerCase(java.util.Locale.ROOT);
  }

  /** This build's version, written on the containers it makes. */
  public String platformVersion() {
    return platformVersion.trim();
  }

  public String dockerHost() {
    return dockerHost.trim();
  }

  public String dockerImage() {
    return dockerImage.trim();
  }

  public String dockerPrefix() {
    String p = dockerPrefix.trim();
    if (!p.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}")) {
      throw new IllegalStateException("DOCKER_CONTAINER_PREFIX must be letters, digits, '_', '.' or '-' (at most 41),"
          + " not '" + p + "'");
    }
    return p;
  }

  /** The user agents' containers run as: never root (the CLI refuses some modes as root, and agents must not have it). */
  public String dockerUser() {
    String user = dockerUser.trim();
    String name = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
    if (name.isEmpty() || name.equals("root") || name.matches("0+")) {
      throw new IllegalStateException("DOCKER_USER must be a non-root user (uid:gid, such as 1000:1000), not '"
          + user + "'");
    }
    return user;
  }

  public String dockerNetwork() {
    return dockerNetwork.trim();
  }

  /** DOCKER_MEMORY in bytes: a number with an optional k, m or g (powers of 1024). */
  public long dockerMemoryBytes() {
    return parseBytes("DOCKER_MEMORY", dockerMemory);
  }

  /** DOCKER_CPUS (a decimal number of CPUs) in billionths of a CPU, as Docker takes it. */
  public long dockerNanoCpus() {
    try {
      double cpus = Double.parseDouble(dockerCpus.trim());
      if (!(cpus > 0) || cpus > 1024) {
        throw new NumberFormatException();
      }
      return Math.round(cpus * 1e9);
    } catch (NumberFormatException e) {
      throw new IllegalStateException("DOCKER_CPUS must be a positive number of CPUs such as 1.5, not '"
          + dockerCpus + "'");
    }
  }

  public long dockerPidsLimit() {
    return dockerPidsLimit;
  }

  public String dockerWorkspace() {
    return dockerWorkspace.trim();
  }

  public String dockerCliPath() {
    return dockerCliPath.trim();
  }

  public Duration dockerIdleStop() {
    return Duration.ofSeconds(dockerIdleStopSeconds);
  }

  public Duration dockerIdleRemove() {
    return Duration.ofSeconds(dockerIdleRemoveSeconds);
  }

  /** The namespace of the agents' sandbox pods (a DNS-1123 label). */
  public String sandboxNamespace() {
    return dnsLabel("SANDBOX_NAMESPACE", sandboxNamespace);
  }

  /**
   * This installation's name in its sandbox objects' label: the start-up clean-up removes only objects that carry it,
   * so installations that share a sandbox namespace never remove each other's pods or workspaces (a DNS label).
   */
  public String sandboxInstallation() {
    return dnsLabel("SANDBOX_INSTALLATION", sandboxInstallation);
  }

  /** The sandbox pods' RuntimeClass ({@code gvisor}: GKE Sandbox); empty for the cluster's default runtime. */
  public String sandboxRuntimeClass() {
    String v = sandboxRuntimeClass.map(String::trim).orElse("");
    return v.isEmpty() ? "" : dnsLabel("SANDBOX_RUNTIME_CLASS", v);
  }

  public String sandboxImage() {
    String v = sandboxImage.trim();
    if (v.isEmpty() || v.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalStateException("SANDBOX_IMAGE must be an image reference, not '" + sandboxImage + "'");
    }
    return v;
  }

  /** Each sandbox pod's CPU (request and limit), a Kubernetes quantity such as {@code 500m} or {@code 1}. */
  public String sandboxCpu() {
    return quantity("SANDBOX_CPU", sandboxCpu, "(\\d+m|\\d+(\\.\\d{1,3})?)", "500m or 1");
  }

  /** Each sandbox pod's memory (request and limit), a Kubernetes quantity such as {@code 1Gi} or {@code 512Mi}. */
  public String sandboxMemory() {
    return quantity("SANDBOX_MEMORY", sandboxMemory, "\\d+(Ki|Mi|Gi|k|M|G)?", "512Mi or 1Gi");
  }

  /** The size of each agent's workspace volume (PersistentVolumeClaim), such as {@code 5Gi}. */
  public String sandboxStorageSize() {
    return quantity("SANDBOX_STORAGE_SIZE", sandboxStorageSize, "\\d+(Mi|Gi|Ti|M|G|T)", "5Gi");
  }

  /** The workspace volumes' StorageClass; empty for the cluster's default. */
  public String sandboxStorageClass() {
    String v = sandboxStorageClass.trim();
    return v.isEmpty() ? "" : dnsName("SANDBOX_STORAGE_CLASS", v);
  }

  /** The service account of the sandbox pods: one with no cloud role and no API permissions. */
  public String sandboxServiceAccount() {
    return dnsName("SANDBOX_SERVICE_ACCOUNT", sandboxServiceAccount);
  }

  /** The port the runner in each sandbox pod listens on. */
  public int sandboxRunnerPort() {
    if (sandboxRunnerPort < 1024 || sandboxRunnerPort > 65535) {
      throw new IllegalStateException("SANDBOX_RUNNER_PORT must be a port from 1024 to 65535 (the runner is not root),"
          + " not " + sandboxRunnerPort);
    }
    return sandboxRunnerPort;
  }

  /** The CLI inside the sandbox image (a path, or a name on the image's PATH). */
  public String sandboxCliPath() {
    return sandboxCliPath.trim();
  }

  /** Where each sandbox pod mounts the agent's workspace volume: the CLI's working directory and home. */
  public String sandboxWorkspace() {
    String v = sandboxWorkspace.trim();
    if (!v.startsWith("/") || v.length() < 2 || v.endsWith("/") || java.util.Arrays.asList(v.split("/")).stream()
        .anyMatch(part -> part.equals("..") || part.equals("."))) {
      throw new IllegalStateException("SANDBOX_WORKSPACE must be an absolute path without '.' or '..' segments,"
          + " not '" + sandboxWorkspace + "'");
    }
    return v;
  }

  private static String dnsLabel(String key, String value) {
    String v = value.trim();
    if (!v.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
      throw new IllegalStateException(key + " must be a DNS label (lower-case letters, digits and '-', at most 63),"
          + " not '" + value + "'");
    }
    return v;
  }

  private static String dnsName(String key, String value) {
    String v = value.trim();
    if (v.length() > 253 || !v.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?")) {
      throw new IllegalStateException(key + " must be a Kubernetes object name (lower-case letters, digits, '.' and"
          + " '-'), not '" + value + "'");
    }
    return v;
  }

  private static String quantity(String key, String value, String pattern, String example) {
    String v = value.trim();
    if (!v.matches(pattern) || v.matches("0+(m|\\.0+)?|0+[A-Za-z]+")) {
      throw new IllegalStateException(key + " must be a positive Kubernetes quantity such as " + example + ", not '"
          + value + "'");
    }
    return v;
  }

  /** A size such as {@code 512m} or {@code 4g} in bytes (k, m, g: powers of 1024; no suffix: bytes). */
  static long parseBytes(String key, String value) {
    String v = value.trim().toLowerCase(java.util.Locale.ROOT);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,12})([kmg]?)b?").matcher(v);
    if (!m.matches()) {
      throw new IllegalStateException(key + " must be a size such as 512m or 4g, not '" + value + "'");
    }
    long n = Long.parseLong(m.group(1));
    int shift = switch (m.group(2)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 0;
    };
    return n << shift;
  }

  /** {@code auto}, {@code firestore} or {@code embedded}. */
  public String store() {
    return store.trim().toLowerCase(java.util.Locale.ROOT);
  }

  /** The Firestore project: FIRESTORE_PROJECT_ID, else GOOGLE_CLOUD_PROJECT. */
  public Optional<String> firestoreProjectId() {
    return nonBlank(firestoreProjectId).or(() -> nonBlank(googleCloudProject));
  }

  public Optional<String> firestoreEmulatorHost() {
    return nonBlank(firestoreEmulatorHost);
  }

  public String firestoreDatabaseId() {
    return firestoreDatabaseId;
  }

  /** Where the embedded store and, by default, the workspaces live. */
  public Path dataDir() {
    return nonBlank(dataDir).map(Path::of)
        .orElse(Path.of(System.getProperty("user.home"), ".agent-platform"))
        .toAbsolutePath().normalize();
  }

  /** The directory that holds one workspace directory per agent. */
  public Path workspaceRoot() {
    return nonBlank(workspaceRoot).map(Path::of).orElse(dataDir().resolve("workspaces"))
        .toAbsolutePath().normalize();
  }

  public String cliPath() {
    return cliPath.trim();
  }

  public int runAsUid() {
    return runAsUid;
  }

  public int runAsGid() {
    return runAsGid;
  }

  /** How the process runtime walls in each agent: {@code auto}, {@code bubblewrap} or {@code none}. */
  public String sandbox() {
    String s = sandbox.trim().toLowerCase(java.util.Locale.ROOT);
    if (!List.of("auto", "bubblewrap", "none").contains(s)) {
      throw new IllegalStateException("SANDBOX must be auto, bubblewrap or none, not '" + sandbox + "'");
    }
    return s;
  }

  /** Whether the process runtime may run agents of several users without a sandbox. */
  public boolean allowUnsandboxedUsers() {
    return allowUnsandboxedUsers;
  }

  public String permissionMode() {
    return permissionMode.trim();
  }

  public Duration cliIdle() {
    return Duration.ofSeconds(cliIdleSeconds);
  }

  /**
   * This server's id among the replicas: {@code REPLICA_ID}, else the host name and a random suffix (unique, but a
   * server started again then waits for its old leases to expire instead of taking them back at once).
   */
  public String replicaId() {
    return nonBlank(replicaId).map(String::trim).orElseGet(() -> {
      String host = System.getenv("HOSTNAME");
      if (host == null || host.isBlank()) {
        try {
          host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
          host = "replica";
        }
      }
      return host + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    });
  }

  /**
   * How the servers sharing a store agree on who runs an agent: {@code single} (one server: no lease is stored and
   * event writes are plain batches, as before several replicas existed) or {@code leases} (agents' leases in
   * Firestore, each batch of events fenced by its lease: what several replicas need).
   */
  public String replication() {
    String v = replication.trim().toLowerCase(java.util.Locale.ROOT);
    if (!v.equals("single") && !v.equals("leases")) {
      throw new IllegalStateException("REPLICATION must be single or leases, not '" + replication + "'");
    }
    return v;
  }

  /** How long an agent's lease holds without renewal: how soon another replica takes over from a dead one. */
  public Duration leaseTtl() {
    if (leaseSeconds < 2) {
      throw new IllegalStateException("LEASE_SECONDS must be at least 2, not " + leaseSeconds);
    }
    return Duration.ofSeconds(leaseSeconds);
  }

  /** The most CLIs this server keeps warm at once (0: no limit); past it the least recently used idle one stops. */
  public int cliWarmLimit() {
    return Math.max(0, cliWarmLimit);
  }

  /** Names of further environment variables the CLI may see (for example CLAUDE_CODE_USE_VERTEX). */
  public List<String> cliPassEnv() {
    return cliPassEnv.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * The values to hide: the API key, and those of the variables passed through CLI_PASS_ENV whose names say they
   * are secret (holding KEY, TOKEN or SECRET).
   */
  public Secrets secrets() {
    java.util.List<String> values = new java.util.ArrayList<>();
    anthropicApiKey().ifPresent(values::add);
    for (String name : cliPassEnv()) {
      String value = System.getenv(name);
      if (value != null && (name.contains("TOKEN") || name.contains("KEY") || name.contains("SECRET"))) {
        values.add(value);
      }
    }
    return new Secrets(values);
  }

  public Optional<String> anthropicApiKey() {
    return nonBlank(anthropicApiKey);
  }

  public Optional<String> anthropicBaseUrl() {
    return nonBlank(anthropicBaseUrl);
  }

  public Duration turnTimeout() {
    return Duration.ofSeconds(turnTimeoutSeconds);
  }

  public long turnOutputLimitBytes() {
    return turnOutputLimitBytes;
  }

  public int maxFrameBytes() {
    return maxFrameBytes;
  }

  public int maxMessageChars() {
    return maxMessageChars;
  }

  public int sessionSendQueueLimit() {
    return sessionSendQueueLimit;
  }

  /** The model for agents that name none; blank means the CLI's own default. */
  public String defaultModel() {
    return defaultModel.trim();
  }

  public String authMode() {
    return authMode.trim().toLowerCase(java.util.Locale.ROOT);
  }

  public String authDefaultUser() {
    return authDefaultUser.trim();
  }

  public String authUserHeader() {
    return authUserHeader.trim();
  }

  /** Origins besides the platform's own whose pages may open the WebSocket: exact {@code scheme://host[:port]}. */
  public List<String> allowedOrigins() {
    return allowedOrigins.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** A WebSocket silent for this long is pinged; zero turns pings (and dropping silent peers) off. */
  public Duration sessionPing() {
    return Duration.ofSeconds(Math.max(0, sessionPingSeconds));
  }

  /** A WebSocket whose peer has sent nothing, not even a pong, for this long is closed (1001). */
  public Duration sessionPongTimeout() {
    return Duration.ofSeconds(Math.max(1, sessionPongTimeoutSeconds));
  }

  private static Optional<String> nonBlank(Optional<String> value) {
    return value.map(String::trim).filter(s -> !s.isEmpty());
  }
}
