package dev.agentplatform.runner;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What the runner is told at start, from environment variables, each overridable by an argument
 * {@code --NAME=value} (e.g. {@code --RUNNER_PORT=0}).
 *
 * @param host the address to listen on ({@code RUNNER_HOST}, default {@code 0.0.0.0}: the pod network)
 * @param port the port ({@code RUNNER_PORT}, default 8888; 0 picks a free one)
 * @param secretFile the file holding the per-pod secret ({@code RUNNER_SECRET_FILE}, required)
 * @param workspace the directory every CLI's working directory must lie in ({@code RUNNER_WORKSPACE}, default
 *     {@code /workspace})
 * @param cliUser whom the CLI runs as ({@code RUNNER_CLI_USER}): {@code auto} (default: uid and gid 65534 when the
 *     runner is root, else its own), {@code UID:GID}, or {@code none} (the runner's own uid)
 * @param bufferBytes how many bytes of a CLI's stdout are kept for readers that reconnect
 *     ({@code RUNNER_BUFFER_BYTES}, default 16 MiB)
 * @param maxBodyBytes the largest request body taken ({@code RUNNER_MAX_BODY_BYTES}, default 4 MiB)
 */
record RunnerConfig(String host, int port, Path secretFile, Path workspace, String cliUser, int bufferBytes,
    int maxBodyBytes) {

  /** The bytes of a CLI's stderr that are kept (its tail explains an exit). */
  static final int STDERR_BYTES = 64 * 1024;

  static RunnerConfig from(Map<String, String> env, String[] args) {
    Map<String, String> v = new HashMap<>(env);
    for (String a : args) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("arguments are --NAME=value, not " + a);
      }
      v.put(a.substring(2, eq), a.substring(eq + 1));
    }
    String secret = v.get("RUNNER_SECRET_FILE");
    if (secret == null || secret.isBlank()) {
      throw new IllegalArgumentException("RUNNER_SECRET_FILE is required: the file holding the pod's secret");
    }
    return new RunnerConfig(v.getOrDefault("RUNNER_HOST", "0.0.0.0"),
        number(v, "RUNNER_PORT", 8888, 0, 65535), Path.of(secret),
        Path.of(v.getOrDefault("RUNNER_WORKSPACE", "/workspace")),
        v.getOrDefault("RUNNER_CLI_USER", "auto"),
        number(v, "RUNNER_BUFFER_BYTES", 16 * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
        number(v, "RUNNER_MAX_BODY_BYTES", 4 * 1024 * 1024, 1024, Integer.MAX_VALUE - 8));
  }

  private static int number(Map<String, String> v, String name, int fallback, int min, int max) {
    String s = v.get(name);
    if (s == null || s.isBlank()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(s.trim());
      if (n < min || n > max) {
        throw new IllegalArgumentException(name + " must lie between " + min + " and " + max + ": " + s);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not a number: " + s, e);
    }
  }
}
