package dev.agentplatform.boot;

import dev.agentplatform.agent.AgentRepository;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.conversation.EventStore;
import dev.agentplatform.replica.Commands;
import dev.agentplatform.replica.Leases;
import dev.agentplatform.replica.local.OneServer;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeSelection;
import dev.agentplatform.runtime.docker.DockerEngine;
import dev.agentplatform.runtime.docker.DockerRuntime;
import dev.agentplatform.runtime.docker.DockerSettings;
import dev.agentplatform.runtime.kubernetes.KubernetesRuntime;
import dev.agentplatform.runtime.kubernetes.KubernetesSettings;
import dev.agentplatform.runtime.kubernetes.RunnerConnector;
import dev.agentplatform.runtime.kubernetes.SandboxPods;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import dev.agentplatform.runtime.process.ProcessRuntime;
import dev.agentplatform.runtime.process.ProcessSettings;
import dev.agentplatform.runtime.simulated.SimulatedRuntime;
import dev.agentplatform.store.PlatformStore;
import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.store.sqlite.SqliteStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The composition root: chooses and builds the store and the runtime from configuration, and says once in the
 * log which were chosen and why. The only place that knows the adapters' classes; the one store adapter it builds
 * is produced as each port the features own ({@link AgentRepository}, {@link EventStore}) and as its life cycle.
 */
@ApplicationScoped
public class Adapters {

  private static final Logger LOG = Logger.getLogger(Adapters.class.getName());
  private static final List<String> PROVIDER_SWITCHES = List.of("CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_BEDROCK",
      "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN");

  /** The store adapter, as the ports and the life cycle it implements, with the leases and commands it keeps. */
  private record Store(PlatformStore life, AgentRepository agents, EventStore events, Leases leases,
      Commands commands) {
    static <S extends PlatformStore & AgentRepository & EventStore, L extends Leases & Commands> Store of(S adapter,
        L leases) {
      return new Store(adapter, adapter, adapter, leases, leases);
    }
  }

  private Store storeAdapter;

  @Produces
  @ApplicationScoped
  PlatformStore store(PlatformConfig config) {
    return built(config).life();
  }

  @Produces
  @ApplicationScoped
  AgentRepository agentRepository(PlatformConfig config) {
    return built(config).agents();
  }

  @Produces
  @ApplicationScoped
  EventStore eventStore(PlatformConfig config) {
    return built(config).events();
  }

  @Produces
  @ApplicationScoped
  Leases leases(PlatformConfig config) {
    return built(config).leases();
  }

  @Produces
  @ApplicationScoped
  Commands commands(PlatformConfig config) {
    return built(config).commands();
  }

  private synchronized Store built(PlatformConfig config) {
    if (storeAdapter == null) {
      storeAdapter = build(config);
    }
    return storeAdapter;
  }

  private static Store build(PlatformConfig config) {
    String choice = config.store();
    Optional<String> emulator = config.firestoreEmulatorHost();
    Optional<String> project = config.firestoreProjectId();
    boolean firestore = switch (choice) {
      case "firestore" -> true;
      case "embedded" -> false;
      case "auto" -> emulator.isPresent() || project.isPresent();
      default -> throw new IllegalStateException("STORE must be auto, firestore or embedded, not '" + choice + "'");
    };
    Store store;
    String why;
    if (firestore) {
      String projectId = project.orElse("agent-platform-local");
      FirestoreStore firestoreStore = FirestoreStore.connect(projectId, config.firestoreDatabaseId(), emulator.orElse(
          null));
      // Leases cost the path of every turn (a transaction to take one, one per batch of events to fence it):
      // taken only where several servers share the store (REPLICATION=leases).
      store = "leases".equals(config.replication()) ? Store.of(firestoreStore, firestoreStore.leases())
          : Store.of(firestoreStore, new OneServer());
      why = "auto".equals(choice)
          ? (emulator.isPresent() ? "FIRESTORE_EMULATOR_HOST is set" : "a Firestore project id is set")
          : "STORE=firestore";
    } else {
      if ("leases".equals(config.replication())) {
        throw new IllegalStateException("REPLICATION=leases needs the Firestore store: the embedded store serves one"
            + " server (STORE=" + choice + ")");
      }
      store = Store.of(SqliteStore.open(config.dataDir()), new OneServer());
      why = "auto".equals(choice) ? "no Firestore project id or emulator is configured" : "STORE=embedded";
    }
    LOG.info("store: " + store.life().name() + " (" + store.life().location() + "), because " + why);
    return store;
  }

  void closeStore(@Disposes PlatformStore store) {
    store.close();
  }

  private volatile String runtimeWhy = "not chosen yet";

  @Produces
  @ApplicationScoped
  AgentRuntime runtime(PlatformConfig config, Workers workers, AgentRepository agents) {
    // The Docker probe's client, kept for the runtime it chose rather than made twice.
    AtomicReference<DockerEngine> dockerEngine = new AtomicReference<>();
    RuntimeChoice.Decision decision = RuntimeChoice.decide(config.runtime(), config.disableDocker(), config
        .dockerHost(), () -> {
          String notHere = SandboxPods.whyNotInCluster(System.getenv(), Path.of(
              Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH));
          if (notHere != null) {
            return notHere;
          }
          // A client of its own that gives up soon: an API server that does not answer must not hold the start for
          // the ten retries (about 100 s) of the runtime's client.
          Config quick = new ConfigBuilder(Config.autoConfigure(null)).withRequestRetryBackoffLimit(1)
              .withConnectionTimeout(5_000).withRequestTimeout(10_000).build();
          try (SandboxPods probe = new SandboxPods(new KubernetesClientBuilder().withConfig(quick).build(),
              kubernetesSettings(config))) {
            return probe.whyUnusable();
          }
        }, () -> {
          DockerEngine engine = DockerEngine.connect(config.dockerHost());
          String answer = engine.whyUnreachable();
          if (answer != null) {
            engine.close();
            return answer;
          }
          dockerEngine.set(engine);
          return null;
        });
    AgentRuntime runtime = switch (decision.runtime()) {
      case "process" -> new ProcessRuntime(processSettings(config), workers.scheduler(), config.cliWarmLimit());
      case "simulated" -> new SimulatedRuntime(workers.scheduler());
      case "docker" -> new DockerRuntime(dockerSettings(config), dockerEngine.get() != null ? dockerEngine.get()
          : DockerEngine.connect(config.dockerHost()), workers.scheduler(), workers.pool(), config.cliWarmLimit());
      case "kubernetes" -> new KubernetesRuntime(kubernetesSettings(config), new SandboxPods(
          new KubernetesClientBuilder().build(), kubernetesSettings(config)), new RunnerConnector(RUNNER_RECONNECT),
          id -> agents.findAgent(id).isPresent(), workers.scheduler(), workers.pool(), config.cliWarmLimit());
      default -> throw new IllegalStateException("no runtime named " + decision.runtime());
    };
    runtimeWhy = decision.why();
    LOG.info("runtime: " + runtime.name() + ", because " + decision.why());
    return runtime;
  }

  /** Which runtime runs and why, for readiness. */
  @Produces
  RuntimeSelection runtimeSelection(AgentRuntime runtime) {
    String name = runtime.name(); // makes the runtime, and with it the reason, if nothing has yet
    return new RuntimeSelection(name, runtimeWhy);
  }

  void closeRuntime(@Disposes AgentRuntime runtime) {
    runtime.close();
  }

  static ProcessSettings processSettings(PlatformConfig config) {
    Map<String, String> env = cliEnvironment(config);
    return new ProcessSettings(config.cliPath(), config.workspaceRoot(), config.permissionMode(), config.runAsUid(),
        config.runAsGid(), config.cliIdle(), config.turnOutputLimitBytes(), env, config.secrets(),
        credentialsHint(config, env),
        config.workspaceRoot().startsWith(config.dataDir()) ? List.of(config.dataDir()) : List.of(),
        ProcessSettings.SandboxMode.valueOf(config.sandbox().toUpperCase(java.util.Locale.ROOT)), "bwrap",
        unsandboxedAllowedBecause(config));
  }

  /**
   * Why agents may run without a sandbox, or null when they may not: with AUTH_MODE=default every request is one
   * user, so there is nobody to wall off; otherwise only when ALLOW_UNSANDBOXED_USERS says so.
   */
  static String unsandboxedAllowedBecause(PlatformConfig config) {
    return unsandboxedAllowedBecause(config.authMode(), config.allowUnsandboxedUsers());
  }

  static String unsandboxedAllowedBecause(String authMode, boolean allowUnsandboxedUsers) {
    if (allowUnsandboxedUsers) {
      return "ALLOW_UNSANDBOXED_USERS=true";
    }
    if ("default".equals(authMode)) {
      return "AUTH_MODE=default serves one user";
    }
    return null;
  }

  static DockerSettings dockerSettings(PlatformConfig config) {
    Map<String, String> env = cliEnvironment(config);
    return new DockerSettings(config.dockerHost(), config.dockerImage(), config.dockerPrefix(),
        config.platformVersion(), config.dockerUser(), config.dockerNetwork(), config.dockerMemoryBytes(),
        config.dockerNanoCpus(), config.dockerPidsLimit(), config.dockerWorkspace(), config.dockerCliPath(),
        config.permissionMode(), config.dockerIdleStop(), config.dockerIdleRemove(), config.cliIdle(),
        config.turnOutputLimitBytes(), env, config.secrets(), credentialsHint(config, env));
  }

  /** How long a sandbox pod's runner that stopped answering is asked again before its CLI counts as lost. */
  static final java.time.Duration RUNNER_RECONNECT = java.time.Duration.ofSeconds(30);

  static KubernetesSettings kubernetesSettings(PlatformConfig config) {
    Map<String, String> env = cliEnvironment(config);
    return new KubernetesSettings(config.sandboxNamespace(), config.sandboxRuntimeClass(), config.sandboxImage(),
        config.sandboxCpu(), config.sandboxMemory(), config.sandboxStorageSize(), config.sandboxStorageClass(),
        config.sandboxServiceAccount(), config.sandboxRunnerPort(), config.sandboxWorkspace(), config
            .sandboxInstallation(), config
                .platformVersion(),
        config.sandboxCliPath(), config.permissionMode(), config.cliIdle(), config.turnOutputLimitBytes(), env,
        config.secrets(), credentialsHint(config, env));
  }

  /** What every CLI sees of the configuration: the model's address and credentials, and CLI_PASS_ENV. */
  private static Map<String, String> cliEnvironment(PlatformConfig config) {
    Map<String, String> env = new LinkedHashMap<>();
    config.anthropicApiKey().ifPresent(key -> env.put("ANTHROPIC_API_KEY", key));
    config.anthropicBaseUrl().ifPresent(url -> env.put("ANTHROPIC_BASE_URL", url));
    for (String name : config.cliPassEnv()) {
      String value = System.getenv(name);
      if (value != null) {
        env.put(name, value);
      }
    }
    return env;
  }

  private static String credentialsHint(PlatformConfig config, Map<String, String> env) {
    boolean credentials = config.anthropicApiKey().isPresent()
        || PROVIDER_SWITCHES.stream().anyMatch(env::containsKey);
    return credentials ? null
        : "no model credentials: set ANTHROPIC_API_KEY (or pass a provider's variables such as CLAUDE_CODE_USE_VERTEX"
            + " through CLI_PASS_ENV)";
  }
}
