package dev.agentplatform.runtime.kubernetes;

import dev.agentplatform.runtime.cli.CliConnection;
import java.util.List;
import java.util.Map;

/**
 * The seam between the Kubernetes runtime and the runner in a sandbox pod: given where the runner listens, the
 * pod's secret and how to start the CLI, it starts (or reattaches to) the agent's CLI there and hands it back as a
 * {@link CliConnection}, which {@code runtime.cli.CliSession} drives as it drives a local process.
 */
@FunctionalInterface
public interface PodConnector {

  /**
   * Starts the agent's CLI through the pod's runner. Called on a worker, once the pod runs and is ready.
   *
   * @throws RuntimeException when the runner cannot be reached or refuses; the turn fails with its message
   */
  CliConnection connect(Runner runner, Launch launch);

  /**
   * Takes up the CLI the pod's runner keeps for the turn {@code turnId} (a previous server process started it),
   * its stdout from where that turn's output begins. Empty when the runner keeps no such turn.
   *
   * @throws RuntimeException when the runner cannot be reached or refuses
   */
  default java.util.Optional<CliConnection> reattach(Runner runner, String turnId) {
    return java.util.Optional.empty();
  }

  /**
   * Where an agent's runner listens and how to prove to it that the platform asks.
   *
   * @param pod the pod's name (for logs)
   * @param ip the pod's IP address
   * @param port the runner's port (SANDBOX_RUNNER_PORT)
   * @param secret the pod's secret, also mounted for the runner at {@link SandboxObjects#RUNNER_SECRET_FILE}
   */
  record Runner(String pod, String ip, int port, String secret) {
    @Override
    public String toString() {
      return "Runner[pod=" + pod + ", ip=" + ip + ", port=" + port + "]"; // never the secret
    }
  }

  /**
   * How to start the CLI: an argument list (no shell parses it), its whole environment, its working directory.
   */
  record Launch(List<String> arguments, Map<String, String> environment, String workingDirectory) {
    public Launch {
      arguments = List.copyOf(arguments);
      environment = Map.copyOf(environment);
    }

    @Override
    public String toString() {
      return "Launch[arguments=" + arguments + ", environment=" + environment.keySet() + ", workingDirectory="
          + workingDirectory + "]"; // the values hold the API key
    }
  }
}
