package dev.agentplatform.runtime.runner;

import java.net.URI;

/**
 * Where a runner listens and the secret it takes: the pod's address and port, and the secret the platform made for
 * that pod. Its {@link #toString} leaves the secret out, so logging an endpoint never leaks it.
 */
public record RunnerEndpoint(String host, int port, String secret) {

  public RunnerEndpoint {
    if (host == null || host.isBlank() || port <= 0 || port > 65535 || secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("a runner endpoint needs a host, a port and a secret");
    }
  }

  URI uri(String pathAndQuery) {
    String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return URI.create("http://" + h + ":" + port + pathAndQuery);
  }

  /** host:port, without the secret. */
  @Override
  public String toString() {
    return host + ":" + port;
  }
}
