package dev.agentplatform.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The connection to one Docker Engine: a client for short calls, with timeouts, and one without a response
 * timeout for the long-lived exec streams of warm CLIs (which may be silent for as long as an agent is idle).
 */
public final class DockerEngine implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(DockerEngine.class.getName());

  private final String host;
  private final DockerClient calls;
  private final DockerClient streams;

  private DockerEngine(String host, DockerClient calls, DockerClient streams) {
    this.host = host;
    this.calls = calls;
    this.streams = streams;
  }

  /** Makes the clients; nothing is sent to the daemon yet. */
  public static DockerEngine connect(String host) {
    DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build();
    DockerClient calls = DockerClientImpl.getInstance(config, new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost()).sslConfig(config.getSSLConfig())
        .connectionTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(60)).maxConnections(50).build());
    DockerClient streams = DockerClientImpl.getInstance(config, new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost()).sslConfig(config.getSSLConfig())
        .connectionTimeout(Duration.ofSeconds(5)).maxConnections(1000).build());
    return new DockerEngine(host, calls, streams);
  }

  public String host() {
    return host;
  }

  /** The client for calls that answer promptly. */
  DockerClient calls() {
    return calls;
  }

  /** The client for attached exec streams. */
  DockerClient streams() {
    return streams;
  }

  /** The daemon's version, or an exception saying why it does not answer. */
  public String version() {
    return calls.versionCmd().exec().getVersion();
  }

  /** Null when the daemon answers, else why it does not. */
  public String whyUnreachable() {
    try {
      version();
      return null;
    } catch (RuntimeException e) {
      return rootMessage(e);
    }
  }

  /** The innermost message of an exception chain (docker-java wraps socket errors a few times). */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.strip();
  }

  /** The outcome of a short command run in a container. */
  record ExecResult(long exitCode, String output) {
  }

  /**
   * Runs a short command in a running container (an argument list; no shell unless the command is one) as
   * {@code user}, and waits for its end.
   */
  ExecResult run(String containerId, String user, List<String> command, Duration timeout) {
    String execId = calls.execCreateCmd(containerId).withUser(user).withAttachStdout(true).withAttachStderr(true)
        .withCmd(command.toArray(String[]::new)).exec().getId();
    StringBuilder output = new StringBuilder();
    try (ResultCallback.Adapter<Frame> done = calls.execStartCmd(execId).exec(new ResultCallback.Adapter<>() {
      @Override
      public void onNext(Frame frame) {
        synchronized (output) {
          if (output.length() < 4000) {
            output.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
          }
        }
      }
    })) {
      if (!done.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("'" + command.get(0) + "' did not end within " + timeout.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running '" + command.get(0) + "' in a container", e);
    } catch (IOException e) {
      LOG.log(Level.FINE, "closing an exec stream", e);
    }
    // The stream can end a moment before the engine records the exit code.
    Long code = null;
    for (int i = 0; i < 50; i++) {
      var inspected = calls.inspectExecCmd(execId).exec();
      if (!Boolean.TRUE.equals(inspected.isRunning()) && inspected.getExitCodeLong() != null) {
        code = inspected.getExitCodeLong();
        break;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    synchronized (output) {
      return new ExecResult(code == null ? -1 : code, output.toString().strip());
    }
  }

  @Override
  public void close() {
    for (DockerClient client : new DockerClient[] {calls, streams}) {
      try {
        client.close();
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "closing a Docker client", e);
      }
    }
  }
}
