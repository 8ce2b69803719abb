package dev.agentplatform.runtime.kubernetes;

import dev.agentplatform.runtime.cli.CliConnection;
import dev.agentplatform.runtime.runner.RunnerCli;
import dev.agentplatform.runtime.runner.RunnerEndpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@link PodConnector} of a deployment: starts the agent's CLI through the runner in its pod over HTTP, as a
 * {@link RunnerCli}.
 */
public final class RunnerConnector implements PodConnector {

  private final HttpClient http;
  private final Duration reconnectFor;

  /**
   * @param reconnectFor how long a runner that stopped answering is asked again before its CLI counts as lost
   */
  public RunnerConnector(Duration reconnectFor) {
    // HTTP/1.1: the runner speaks nothing else. A connect timeout: a pod that is gone must not hold a connect for
    // the system's whole SYN timeout.
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .build();
    this.reconnectFor = reconnectFor;
  }

  /** The newest CLI of the runner that took the turn's message, read from where the turn's output begins. */
  @Override
  public Optional<CliConnection> reattach(Runner runner, String turnId) {
    RunnerEndpoint endpoint = endpoint(runner);
    List<RunnerCli.Kept> kept;
    try {
      kept = RunnerCli.kept(http, endpoint);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
    for (int i = kept.size() - 1; i >= 0; i--) {
      Long offset = kept.get(i).marks().get(turnId);
      if (offset != null) {
        return Optional.of(RunnerCli.attach(http, endpoint, kept.get(i).instance(), offset, reconnectFor));
      }
    }
    return Optional.empty();
  }

  @Override
  public CliConnection connect(Runner runner, Launch launch) {
    RunnerEndpoint endpoint = endpoint(runner);
    try {
      return RunnerCli.start(http, endpoint, launch.arguments(), launch.environment(), launch.workingDirectory(),
          reconnectFor);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  private static RunnerEndpoint endpoint(Runner runner) {
    return new RunnerEndpoint(runner.ip(), runner.port(), runner.secret());
  }
}
