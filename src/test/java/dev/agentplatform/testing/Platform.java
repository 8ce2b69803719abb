package dev.agentplatform.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The real parts an integration test talks to, started once per test JVM and stopped at its end: the Firestore
 * emulator, the scripted model server, and the Liberty server that the build created, started through its own
 * {@code bin/server} script so that a test can restart it with another environment.
 */
public final class Platform {

  public static final String SECRET_API_KEY = "sk-it-never-show-this-0123456789";
  /** The one origin besides its own whose pages the test server lets open the WebSocket. */
  public static final String ALLOWED_ORIGIN = "https://console.example.com";

  private static Platform instance;

  public final ScriptedModel model;
  private final Process emulator;
  private final int firestorePort;
  private final Path libertyDir;
  private final String serverName;
  private final Path workDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private int httpPort;
  private List<String> generatedEnv;
  private boolean running;
  /** The overrides the running server was started with. */
  private Map<String, String> current = Map.of();

  private Platform(Map<String, String> overrides) throws Exception {
    libertyDir = Path.of(System.getProperty("it.liberty.dir", "target/liberty/wlp")).toAbsolutePath();
    serverName = System.getProperty("it.server.name", "defaultServer");
    workDir = Path.of(System.getProperty("it.work.dir", "target/it")).toAbsolutePath();
    deleteTree(workDir);
    Files.createDirectories(workDir);
    model = ScriptedModel.start(0);
    firestorePort = freePort();
    emulator = startEmulator(firestorePort, workDir.resolve("firestore-emulator.log"));
    Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "platform-shutdown"));
    start(overrides);
  }

  /** The running platform with the default test environment changed by {@code overrides} (see {@link #use}). */
  public static Platform with(Map<String, String> overrides) throws Exception {
    Platform platform = get(overrides);
    platform.use(overrides);
    return platform;
  }

  /** The running platform, started on first use. */
  public static Platform get() {
    return get(Map.of());
  }

  /** The running platform; started with {@code overrides} when this is the first use (no start to undo). */
  private static synchronized Platform get(Map<String, String> overrides) {
    if (instance == null) {
      try {
        instance = new Platform(overrides);
      } catch (Exception e) {
        throw new IllegalStateException("could not start the platform for the tests: " + e.getMessage(), e);
      }
    }
    return instance;
  }

  /** The Firestore emulator's host:port, for store tests that talk to it directly. */
  public static String firestoreEmulatorHost() {
    return "127.0.0.1:" + get().firestorePort;
  }

  public String cliPath() {
    return System.getProperty("it.claude.cli.path");
  }

  public Path dataDir() {
    return workDir.resolve("data");
  }

  public Path workspace(String agentId) {
    return dataDir().resolve("workspaces").resolve(agentId);
  }

  public URI http(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  public URI ws() {
    return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
  }

  /** The environment the server runs with; {@code overrides} replace or (with a null value) remove keys. */
  private Map<String, String> environment(Map<String, String> overrides) {
    return environment(httpPort, "it-a", overrides);
  }

  /**
   * The environment of a server of the tests on {@code port}, as replica {@code replicaId}: a stable id, so that a
   * server killed and started again takes back its own leases at once, as a pod's container does under its name.
   */
  Map<String, String> environment(int port, String replicaId, Map<String, String> overrides) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HTTP_PORT", String.valueOf(port));
    env.put("REPLICA_ID", replicaId);
    env.put("FIRESTORE_EMULATOR_HOST", "127.0.0.1:" + firestorePort);
    env.put("FIRESTORE_PROJECT_ID", "agent-platform-it");
    env.put("ANTHROPIC_API_KEY", SECRET_API_KEY);
    env.put("ANTHROPIC_BASE_URL", model.baseUrl());
    env.put("CLAUDE_CLI_PATH", cliPath());
    env.put("DATA_DIR", dataDir().toString());
    env.put("AUTH_MODE", "header");
    env.put("AUTH_USER_HEADER", "X-User");
    env.put("MAX_FRAME_BYTES", "65536");
    env.put("MAX_MESSAGE_CHARS", "5000");
    env.put("TURN_TIMEOUT_SECONDS", "120");
    env.put("ALLOWED_ORIGINS", ALLOWED_ORIGIN);
    // Short enough that a test sees a silent peer dropped, long enough that a busy machine never drops a live one.
    env.put("SESSION_PING_SECONDS", "2");
    env.put("SESSION_PONG_TIMEOUT_SECONDS", "10");
    // The Docker runtime has its own tests (DockerIT); the others run the CLI as a child process.
    env.put("AGENT_RUNTIME", "process");
    overrides.forEach((k, v) -> {
      if (v == null) {
        env.remove(k);
      } else {
        env.put(k, v);
      }
    });
    return env;
  }

  /**
   * Makes sure the server runs with the default test environment changed by {@code overrides}, restarting it only
   * when it runs with other ones: each test class states the environment it needs at its start, so the classes
   * do not depend on their order and no restart is made that no test needs.
   */
  public synchronized void use(Map<String, String> overrides) throws Exception {
    if (!running || !current.equals(overrides)) {
      restart(overrides);
    }
  }

  /** Starts the server with the default test environment changed by {@code overrides}. */
  public synchronized void start(Map<String, String> overrides) throws Exception {
    current = new java.util.HashMap<>(overrides);
    httpPort = freePort();
    writeServerEnv(environment(overrides));
    Process p = new ProcessBuilder(libertyDir.resolve("bin/server").toString(), "start", serverName)
        .redirectErrorStream(true).redirectOutput(workDir.resolve("server-start.log").toFile()).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("server start failed: " + Files.readString(workDir.resolve("server-start.log")));
    }
    running = true;
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<HttpResponse<String>> health = tryGet("/health/started");
      // Our own check's name proves that our server answers on this port (not something else that holds it).
      if (health.isPresent() && health.get().statusCode() == 200 && health.get().body().contains(
          "agent-platform-started")) {
        return;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("the server did not report started within 90 s; see "
        + libertyDir.resolve("usr/servers/" + serverName + "/logs/messages.log"));
  }

  public synchronized void stop() throws Exception {
    if (!running) {
      return;
    }
    Process p = new ProcessBuilder(libertyDir.resolve("bin/server").toString(), "stop", serverName)
        .redirectErrorStream(true).redirectOutput(workDir.resolve("server-stop.log").toFile()).start();
    p.waitFor();
    running = false;
  }

  /** The running server's JVM, found by the pid Liberty wrote. */
  public synchronized ProcessHandle serverProcess() throws IOException {
    Path pidFile = libertyDir.resolve("usr/servers/.pid/" + serverName + ".pid");
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    return ProcessHandle.of(pid)
        .orElseThrow(() -> new IllegalStateException("no server process " + pid + " (from " + pidFile + ")"));
  }

  /**
   * Kills the server as a crash would: SIGKILL to its JVM, found by the pid Liberty wrote, then to the processes it
   * left behind that are provably its own (its descendants working in an agent workspace: CLIs and their tools).
   */
  public synchronized void killServer() throws Exception {
    ProcessHandle server = serverProcess();
    Path workspaces = dataDir().resolve("workspaces");
    List<ProcessHandle> left = server.descendants().filter(h -> cwdUnder(h, workspaces)).toList();
    server.destroyForcibly();
    server.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    // A handle knows its process's start time: a pid reused since is not killed.
    left.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : left) {
      h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
    running = false;
  }

  private static boolean cwdUnder(ProcessHandle h, Path dir) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", String.valueOf(h.pid()), "cwd")).startsWith(dir);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  public void restart(Map<String, String> overrides) throws Exception {
    long t0 = System.nanoTime();
    stop();
    long t1 = System.nanoTime();
    start(overrides);
    System.err.printf("platform restart: stop %d ms, start %d ms%n", (t1 - t0) / 1_000_000,
        (System.nanoTime() - t1) / 1_000_000);
  }

  private void writeServerEnv(Map<String, String> env) throws IOException {
    Path file = libertyDir.resolve("usr/servers/" + serverName + "/server.env");
    if (generatedEnv == null) {
      // What the build generated (the keystore password), read once: no start inherits the keys of an earlier
      // start's overrides, nor of an earlier test run.
      generatedEnv = new ArrayList<>();
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file)) {
          if (line.startsWith("keystore_password=")) {
            generatedEnv.add(line);
          }
        }
      }
    }
    List<String> lines = new ArrayList<>();
    for (String line : generatedEnv) {
      if (!env.containsKey(line.substring(0, line.indexOf('=')))) {
        lines.add(line);
      }
    }
    env.forEach((k, v) -> lines.add(k + "=" + v));
    Files.write(file, lines, StandardCharsets.UTF_8);
  }

  private Optional<HttpResponse<String>> tryGet(String path) {
    try {
      return Optional.of(http.send(HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** A REST call as a user; body null for none. */
  public HttpResponse<String> call(String method, String path, String user, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (user != null) {
      b.header("X-User", user);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public int httpPort() {
    return httpPort;
  }

  /**
   * Opens a WebSocket as a user that asks for batched events, as the page does (null: without the identity header,
   * and so without asking: such a connection gets an error and a close).
   */
  public WsClient connect(String user) throws Exception {
    return WsClient.connect(ws(), user, user != null);
  }

  /** Opens a WebSocket as a user that does not ask for batched events: a client that does not know of them. */
  public WsClient connectUnbatched(String user) throws Exception {
    return WsClient.connect(ws(), user, false);
  }

  /** Processes whose working directory is the agent's workspace (a CLI or anything it started). */
  public List<Long> processesIn(String agentId) {
    Path workspace = workspace(agentId);
    List<Long> pids = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(h -> {
      try {
        Path cwd = Files.readSymbolicLink(Path.of("/proc", String.valueOf(h.pid()), "cwd"));
        if (cwd.startsWith(workspace)) {
          pids.add(h.pid());
        }
      } catch (IOException | UnsupportedOperationException e) {
        // gone, or not ours to read
      }
    });
    return pids;
  }

  /** The server's log, to check that no secret reached it. */
  public String serverLog() throws IOException {
    Path logs = libertyDir.resolve("usr/servers/" + serverName + "/logs");
    StringBuilder b = new StringBuilder();
    try (var files = Files.list(logs)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        b.append(Files.readString(f, StandardCharsets.ISO_8859_1));
      }
    }
    return b.toString();
  }

  /** How long the server's messages.log is now: what a test logged after this is {@link #messagesLogSince}. */
  public long messagesLogMark() throws IOException {
    Path log = libertyDir.resolve("usr/servers/" + serverName + "/logs/messages.log");
    return Files.exists(log) ? Files.size(log) : 0;
  }

  /** What the server wrote to messages.log after {@code mark}. */
  public String messagesLogSince(long mark) throws IOException {
    Path log = libertyDir.resolve("usr/servers/" + serverName + "/logs/messages.log");
    byte[] all = Files.readAllBytes(log);
    int from = (int) Math.min(mark, all.length);
    return new String(all, from, all.length - from, StandardCharsets.ISO_8859_1);
  }

  private static Process startEmulator(int port, Path log) throws Exception {
    String jar = System.getProperty("it.firestore.emulator.jar",
        "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar");
    if (!Files.exists(Path.of(jar))) {
      throw new IllegalStateException("the Firestore emulator is not installed at " + jar
          + " (gcloud components: cloud-firestore-emulator)");
    }
    Process p = new ProcessBuilder("java", "-cp", jar, "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
        "start", "--host=127.0.0.1", "--port=" + port)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return p;
      } catch (IOException e) {
        if (!p.isAlive()) {
          throw new IllegalStateException("the Firestore emulator exited: " + Files.readString(log));
        }
        Thread.sleep(200);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException("the Firestore emulator did not open port " + port + " within 60 s");
  }

  private void shutdown() {
    try {
      stop();
    } catch (Exception e) {
      // best effort at JVM exit
    }
    emulator.destroy();
    model.close();
  }

  /** The Liberty installation the servers of the tests run from. */
  Path libertyDir() {
    return libertyDir;
  }

  Path workDir() {
    return workDir;
  }

  /** The name of the first server, whose configuration a further server copies. */
  String serverName() {
    return serverName;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
