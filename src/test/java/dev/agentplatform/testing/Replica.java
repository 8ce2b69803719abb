package dev.agentplatform.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A further Liberty server of the tests beside {@link Platform}'s: the same installation and application
 * ({@code usr/servers/NAME}, its configuration copied from the first server's), its own port and replica id, and
 * the same Firestore emulator, model and data directory (one shared {@code WORKSPACE_ROOT}).
 */
public final class Replica implements AutoCloseable {

  private final Platform platform;
  private final String name;
  private final String replicaId;
  private final Path serverDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private int httpPort;
  private boolean running;

  private Replica(Platform platform, String name, String replicaId) throws IOException {
    this.platform = platform;
    this.name = name;
    this.replicaId = replicaId;
    Path servers = platform.libertyDir().resolve("usr/servers");
    Path from = servers.resolve(platform.serverName());
    serverDir = servers.resolve(name);
    for (String part : List.of("server.xml", "jvm.options", "apps", "dropins", "resources")) {
      copyTree(from.resolve(part), serverDir.resolve(part));
    }
    List<String> generated = new ArrayList<>();
    if (Files.exists(from.resolve("server.env"))) {
      for (String line : Files.readAllLines(from.resolve("server.env"))) {
        if (line.startsWith("keystore_password=")) {
          generated.add(line);
        }
      }
    }
    this.generated = generated;
  }

  private final List<String> generated;

  /** Makes the server {@code name} (replica id {@code replicaId}) and starts it with {@code overrides}. */
  public static Replica start(Platform platform, String name, String replicaId, Map<String, String> overrides)
      throws Exception {
    Replica r = new Replica(platform, name, replicaId);
    r.start(overrides);
    return r;
  }

  public synchronized void start(Map<String, String> overrides) throws Exception {
    httpPort = Platform.freePort();
    List<String> lines = new ArrayList<>(generated);
    platform.environment(httpPort, replicaId, overrides).forEach((k, v) -> lines.add(k + "=" + v));
    Files.write(serverDir.resolve("server.env"), lines, StandardCharsets.UTF_8);
    Path log = platform.workDir().resolve(name + "-start.log");
    Process p = new ProcessBuilder(platform.libertyDir().resolve("bin/server").toString(), "start", name)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("server " + name + " did not start: " + Files.readString(log));
    }
    running = true;
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(http("/health/started"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("agent-platform-started")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("server " + name + " did not report started within 90 s; see " + serverDir
        .resolve("logs/messages.log"));
  }

  public synchronized void stop() throws Exception {
    if (!running) {
      return;
    }
    new ProcessBuilder(platform.libertyDir().resolve("bin/server").toString(), "stop", name).redirectErrorStream(
        true).redirectOutput(platform.workDir().resolve(name + "-stop.log").toFile()).start().waitFor();
    running = false;
  }

  @Override
  public void close() throws Exception {
    stop();
  }

  public URI http(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  public URI ws() {
    return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
  }

  public WsClient connect(String user) throws Exception {
    return WsClient.connect(ws(), user);
  }

  /** A REST call as a user; body null for none. */
  public HttpResponse<String> call(String method, String path, String user, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    b.header("X-User", user);
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** What the server wrote to messages.log. */
  public String messagesLog() throws IOException {
    Path log = serverDir.resolve("logs/messages.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
  }

  /** Whether the server's JVM still runs (it may stop itself when its application cannot start). */
  public boolean running() {
    return running;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    if (!Files.exists(from)) {
      return;
    }
    try (var walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
