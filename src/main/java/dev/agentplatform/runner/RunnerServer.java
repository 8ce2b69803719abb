package dev.agentplatform.runner;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runner's HTTP API (docs/runner.md): health without a secret, and with the pod's secret the start of a CLI, its
 * stdin, its stdout and stderr streamed from an offset, its status and its kill. Every refusal is a typed JSON
 * error.
 */
final class RunnerServer implements AutoCloseable {

  private static final Pattern INSTANCE_PATH = Pattern.compile("/cli/([0-9a-f]{1,64})(/(stdin|stdout|stderr|kill))?");
  private static final Pattern MARK = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Ended instances kept for a late reader, beside the running one. */
  private static final int KEPT_INSTANCES = 2;

  private final RunnerConfig config;
  private final byte[] secretDigest;
  private final Path workspace;
  private final CliUser cliUser;
  private final HttpServer server;
  private final ExecutorService executor;
  private final Map<String, CliInstance> instances = new LinkedHashMap<>();

  private RunnerServer(RunnerConfig config, byte[] secret, Path workspace, CliUser cliUser, HttpServer server,
      ExecutorService executor) {
    this.config = config;
    this.secretDigest = sha256(secret);
    this.workspace = workspace;
    this.cliUser = cliUser;
    this.server = server;
    this.executor = executor;
  }

  /**
   * Listens as {@code config} says; {@code cliUser} is whom CLIs run as (null: the runner's own uid).
   *
   * @param secret the bytes a request's bearer token must equal
   */
  static RunnerServer start(RunnerConfig config, byte[] secret, CliUser cliUser) throws IOException {
    if (secret.length == 0) {
      throw new IllegalArgumentException("the secret is empty");
    }
    Path workspace = config.workspace().toRealPath();
    HttpServer server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
    // A thread per request: a stdout stream holds its thread for as long as it follows the CLI.
    ExecutorService executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "runner-http");
      t.setDaemon(true);
      return t;
    });
    RunnerServer runner = new RunnerServer(config, secret, workspace, cliUser, server, executor);
    server.createContext("/", runner::handle);
    server.setExecutor(executor);
    server.start();
    return runner;
  }

  int port() {
    return server.getAddress().getPort();
  }

  String host() {
    return server.getAddress().getHostString();
  }

  /** Stops listening and kills every CLI still running. */
  @Override
  public void close() {
    server.stop(0);
    synchronized (instances) {
      instances.values().forEach(CliInstance::kill);
    }
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      try {
        route(exchange);
      } catch (ApiError e) {
        drain(exchange);
        sendError(exchange, e);
      } catch (RuntimeException e) {
        drain(exchange);
        sendError(exchange, new ApiError(500, "internal", "the runner failed: " + e));
      }
    }
  }

  private void route(HttpExchange exchange) throws IOException, ApiError {
    String path = exchange.getRequestURI().getRawPath();
    String method = exchange.getRequestMethod();
    if (path.equals("/healthz")) {
      allow(method, "GET");
      sendJson(exchange, 200, "{\"status\":\"UP\"}");
      return;
    }
    authenticate(exchange);
    if (path.equals("/cli")) {
      if (method.equals("GET")) {
        list(exchange);
      } else {
        allow(method, "POST", "GET, POST");
        startCli(exchange);
      }
      return;
    }
    Matcher m = INSTANCE_PATH.matcher(path);
    if (!m.matches()) {
      throw new ApiError(404, "not_found", "no such endpoint: " + path);
    }
    CliInstance cli = instance(m.group(1));
    String action = m.group(3);
    if (action == null) {
      allow(method, "GET");
      status(exchange, cli);
      return;
    }
    switch (action) {
      case "stdin" -> {
        allow(method, "POST");
        String mark = query(exchange.getRequestURI(), "mark");
        if (mark != null && !MARK.matcher(mark).matches()) {
          throw new ApiError(400, "bad_request", "mark is 1 to 64 letters, digits, '_' or '-'");
        }
        byte[] body = readBody(exchange);
        if (!cli.alive()) {
          throw new ApiError(409, "cli_ended", "the CLI has ended (" + cli.exit() + "); nothing was written");
        }
        try {
          cli.write(body, mark);
        } catch (IOException e) {
          throw new ApiError(409, "cli_ended", "the CLI's stdin is closed (" + e.getMessage() + ")");
        }
        sendJson(exchange, 200, Json.write(Map.of("written", body.length)));
      }
      case "stdout" -> {
        allow(method, "GET");
        follow(exchange, cli.stdout());
      }
      case "stderr" -> {
        allow(method, "GET");
        follow(exchange, cli.stderr());
      }
      default -> {
        allow(method, "POST");
        readBody(exchange);
        cli.kill();
        sendJson(exchange, 200, "{\"killed\":true}");
      }
    }
  }

  private static void allow(String method, String allowed) throws ApiError {
    allow(method, allowed, allowed);
  }

  private static void allow(String method, String allowed, String all) throws ApiError {
    if (!method.equals(allowed)) {
      throw new ApiError(405, "method_not_allowed", "this endpoint takes " + all + ", not " + method,
          Map.of("allow", all));
    }
  }

  /** The instances kept, oldest first, each as {@code GET /cli/{instance}} tells it. */
  private void list(HttpExchange exchange) throws IOException {
    List<Object> all = new ArrayList<>();
    synchronized (instances) {
      instances.values().forEach(cli -> all.add(InstanceStatus.of(cli).toMap()));
    }
    sendJson(exchange, 200, Json.write(Map.of("instances", all)));
  }

  /** Compares digests in constant time, so neither the secret's bytes nor its length leak through timing. */
  private void authenticate(HttpExchange exchange) throws ApiError {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    boolean ok = header != null && header.startsWith("Bearer ")
        && MessageDigest.isEqual(secretDigest, sha256(header.substring(7).getBytes(StandardCharsets.UTF_8)));
    if (!ok) {
      throw new ApiError(401, "unauthorized", "this request needs the pod's secret: Authorization: Bearer ...");
    }
  }

  private void startCli(HttpExchange exchange) throws IOException, ApiError {
    byte[] body = readBody(exchange);
    Object json;
    try {
      json = Json.parse(new String(body, StandardCharsets.UTF_8));
    } catch (Json.ParseException e) {
      throw new ApiError(400, "bad_json", "the body is not JSON: " + e.getMessage());
    }
    StartRequest request = StartRequest.from(json);
    Path cwd = workingDirectory(request.cwd());
    List<String> command = cliUser == null ? request.argv() : cliUser.command(request.argv(), request.env());
    ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
    builder.environment().clear();
    builder.environment().putAll(cliUser == null ? request.env() : CliUser.SWITCH_ENVIRONMENT);
    CliInstance cli;
    synchronized (instances) {
      for (CliInstance running : instances.values()) {
        if (running.alive()) {
          throw new ApiError(409, "cli_running", "a CLI runs already: instance " + running.id(),
              Map.of("instance", running.id()));
        }
      }
      String id = HexFormat.of().formatHex(randomBytes());
      try {
        cli = CliInstance.start(id, builder, config.bufferBytes(), RunnerConfig.STDERR_BYTES);
      } catch (IOException e) {
        throw new ApiError(400, "start_failed", "cannot start " + request.argv().get(0) + ": " + e.getMessage());
      }
      instances.put(id, cli);
      Iterator<CliInstance> old = instances.values().iterator();
      while (instances.size() > KEPT_INSTANCES + 1 && old.hasNext()) {
        if (!old.next().alive()) {
          old.remove();
        }
      }
    }
    sendJson(exchange, 200, Json.write(Map.of("instance", cli.id())));
  }

  /**
   * The CLI's working directory: a directory inside the workspace, also once every symbolic link on the way is
   * followed; a path with a {@code ..} segment is refused outright.
   */
  private Path workingDirectory(String cwd) throws ApiError {
    for (String segment : cwd.split("/")) {
      if (segment.equals("..")) {
        throw new ApiError(400, "bad_cwd", "cwd may not hold '..': " + cwd);
      }
    }
    Path asked = workspace.resolve(cwd).normalize();
    Path real;
    try {
      real = asked.toRealPath();
    } catch (IOException e) {
      throw new ApiError(400, "bad_cwd", "cwd does not exist: " + cwd);
    }
    if (!asked.startsWith(workspace) || !real.startsWith(workspace)) {
      throw new ApiError(400, "bad_cwd", "cwd lies outside the workspace " + workspace + ": " + cwd);
    }
    if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
      throw new ApiError(400, "bad_cwd", "cwd is not a directory: " + cwd);
    }
    return asked;
  }

  private CliInstance instance(String id) throws ApiError {
    synchronized (instances) {
      CliInstance cli = instances.get(id);
      if (cli == null) {
        throw new ApiError(404, "unknown_instance", "no CLI instance " + id);
      }
      return cli;
    }
  }

  private void status(HttpExchange exchange, CliInstance cli) throws IOException, ApiError {
    String wait = query(exchange.getRequestURI(), "wait");
    if (wait != null) {
      try {
        cli.await(Math.min(60_000, Math.max(0, Long.parseLong(wait))));
      } catch (NumberFormatException e) {
        throw new ApiError(400, "bad_request", "wait is a number of milliseconds: " + wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    sendJson(exchange, 200, InstanceStatus.of(cli).toJson());
  }

  /**
   * Streams a log from the query's {@code offset} (default 0) on, chunk by chunk as the CLI prints, until the CLI
   * has ended and every byte was sent. The response's {@code X-Runner-Offset} is the offset of its first byte.
   */
  private void follow(HttpExchange exchange, OutputLog log) throws IOException, ApiError {
    String o = query(exchange.getRequestURI(), "offset");
    long offset;
    try {
      offset = o == null ? 0 : Long.parseLong(o);
    } catch (NumberFormatException e) {
      throw new ApiError(400, "bad_offset", "offset is a byte offset (a number): " + o);
    }
    long earliest = log.earliest();
    if (offset < earliest) {
      throw new ApiError(410, "offset_gone", "the bytes from offset " + offset + " are no longer kept (the buffer"
          + " holds the last " + config.bufferBytes() + " bytes); the earliest kept is " + earliest,
          Map.of("earliest", earliest));
    }
    long end = log.end();
    if (offset > end) {
      throw new ApiError(416, "offset_ahead", "offset " + offset + " lies beyond the " + end + " bytes printed",
          Map.of("end", end));
    }
    exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
    exchange.getResponseHeaders().set("X-Runner-Offset", Long.toString(offset));
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    byte[] buf = new byte[16 * 1024];
    try {
      int n;
      while ((n = log.read(offset, buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
        offset += n;
      }
      out.close();
    } catch (OutputLog.GoneException e) {
      // The reader fell behind the buffer mid-stream: the response ends without its last chunk, so the client
      // sees a broken stream, asks again from its offset and gets the 410.
      exchange.getResponseBody().close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private byte[] readBody(HttpExchange exchange) throws IOException, ApiError {
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > config.maxBodyBytes()) {
          throw tooLarge();
        }
      } catch (NumberFormatException e) {
        throw new ApiError(400, "bad_request", "Content-Length is not a number");
      }
    }
    InputStream in = exchange.getRequestBody();
    byte[] body = in.readNBytes(config.maxBodyBytes() + 1);
    if (body.length > config.maxBodyBytes()) {
      throw tooLarge();
    }
    return body;
  }

  private ApiError tooLarge() {
    return new ApiError(413, "body_too_large", "a request body holds at most " + config.maxBodyBytes()
        + " bytes (RUNNER_MAX_BODY_BYTES)");
  }

  /** Reads what is left of a refused request's body (bounded), so that the connection stays usable. */
  private void drain(HttpExchange exchange) {
    try {
      exchange.getRequestBody().readNBytes(config.maxBodyBytes() + 1);
    } catch (IOException e) {
      // the client went away; nothing to answer
    }
  }

  private static String query(URI uri, String name) {
    String q = uri.getRawQuery();
    if (q == null) {
      return null;
    }
    for (String part : q.split("&")) {
      int eq = part.indexOf('=');
      if (eq > 0 && part.substring(0, eq).equals(name)) {
        return part.substring(eq + 1);
      }
    }
    return null;
  }

  private static void sendError(HttpExchange exchange, ApiError e) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.code);
    body.put("message", e.getMessage());
    body.putAll(e.extra);
    if (e.status == 405) {
      exchange.getResponseHeaders().set("Allow", String.valueOf(e.extra.get("allow")));
    }
    if (e.status == 401) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
    }
    sendJson(exchange, e.status, Json.write(body));
  }

  private static void sendJson(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return b;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
