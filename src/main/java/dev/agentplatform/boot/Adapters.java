package dev.agentplatform.boot;

import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.process.ProcessRuntime;
import dev.agentplatform.runtime.process.ProcessSettings;
import dev.agentplatform.runtime.simulated.SimulatedRuntime;
import dev.agentplatform.store.PlatformStore;
import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.store.sqlite.SqliteStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The composition root: chooses and builds the store and the runtime from configuration, and says once in the
 * log which were chosen and why. The only place that knows the adapters' classes.
 */
@ApplicationScoped
public class Adapters {

  private static final Logger LOG = Logger.getLogger(Adapters.class.getName());
  private static final List<String> PROVIDER_SWITCHES = List.of("CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_BEDROCK",
      "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN");

  @Produces
  @ApplicationScoped
  PlatformStore store(PlatformConfig config) {
    String choice = config.store();
    Optional<String> emulator = config.firestoreEmulatorHost();
    Optional<String> project = config.firestoreProjectId();
    boolean firestore = switch (choice) {
      case "firestore" -> true;
      case "embedded" -> false;
      case "auto" -> emulator.isPresent() || project.isPresent();
      default -> throw new IllegalStateException("STORE must be auto, firestore or embedded, not '" + choice + "'");
    };
    PlatformStore store;
    String why;
    if (firestore) {
      String projectId = project.orElse("agent-platform-local");
      store = FirestoreStore.connect(projectId, config.firestoreDatabaseId(), emulator.orElse(null));
      why = "auto".equals(choice)
          ? (emulator.isPresent() ? "FIRESTORE_EMULATOR_HOST is set" : "a Firestore project id is set")
          : "STORE=firestore";
    } else {
      store = SqliteStore.open(config.dataDir());
      why = "auto".equals(choice) ? "no Firestore project id or emulator is configured" : "STORE=embedded";
    }
    LOG.info("store: " + store.name() + " (" + store.location() + "), because " + why);
    return store;
  }

  void closeStore(@Disposes PlatformStore store) {
    store.close();
  }

  @Produces
  @ApplicationScoped
  AgentRuntime runtime(PlatformConfig config, Workers workers) {
    String choice = config.runtime();
    AgentRuntime runtime = switch (choice) {
      case "process" -> new ProcessRuntime(processSettings(config), workers.scheduler());
      case "simulated" -> new SimulatedRuntime(workers.scheduler());
      default -> throw new IllegalStateException("AGENT_RUNTIME must be process or simulated, not '" + choice + "'");
    };
    LOG.info("runtime: " + runtime.name() + " (AGENT_RUNTIME=" + choice
        + (config.disableDocker() ? ", DISABLE_DOCKER=true" : "") + ")");
    return runtime;
  }

  void closeRuntime(@Disposes AgentRuntime runtime) {
    runtime.close();
  }

  static ProcessSettings processSettings(PlatformConfig config) {
    Map<String, String> env = new LinkedHashMap<>();
    config.anthropicApiKey().ifPresent(key -> env.put("ANTHROPIC_API_KEY", key));
    config.anthropicBaseUrl().ifPresent(url -> env.put("ANTHROPIC_BASE_URL", url));
    for (String name : config.cliPassEnv()) {
      String value = System.getenv(name);
      if (value != null) {
        env.put(name, value);
      }
    }
    boolean credentials = config.anthropicApiKey().isPresent()
        || PROVIDER_SWITCHES.stream().anyMatch(env::containsKey);
    String hint = credentials ? null
        : "no model credentials: set ANTHROPIC_API_KEY (or pass a provider's variables such as CLAUDE_CODE_USE_VERTEX"
            + " through CLI_PASS_ENV)";
    return new ProcessSettings(config.cliPath(), config.workspaceRoot(), config.permissionMode(), config.runAsUid(),
        config.runAsGid(), config.cliIdle(), config.turnOutputLimitBytes(), env, config.secrets(), hint,
        config.workspaceRoot().startsWith(config.dataDir()) ? List.of(config.dataDir()) : List.of());
  }
}
