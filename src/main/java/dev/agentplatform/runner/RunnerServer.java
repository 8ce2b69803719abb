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
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
  /**
   * Requests served at once. The JDK server reads a request's headers on these threads too, so a client that sends
   * slowly holds one until {@code sun.net.httpserver.maxReqTime} (set by {@link Main}) closes its connection.
   */
  static final int REQUEST_THREADS = 16;
  /** Requests that wait for a request thread; past that a new request's connection is closed unanswered. */
  static final int QUEUED_REQUESTS = 256;
  /** Streams (stdout, stderr) and status waits served at once; each holds a thread of its own while it lasts. */
  static final int STREAM_THREADS = 32;
  /** How long a stream waits for output before it ends (its reader, if still there, asks again from its offset). */
  static final Duration STREAM_IDLE = Duration.ofSeconds(60);

  private final RunnerConfig config;
  private final byte[] secretDigest;
  private final Path workspace;
  private final CliUser cliUser;
  private final HttpServer server;
  private final ThreadPoolExecutor requests;
  private final ThreadPoolExecutor streams;
  private final long streamIdleMillis;
  private final Map<String, CliInstance> instances = new LinkedHashMap<>();

  private RunnerServer(RunnerConfig config, byte[] secret, Path workspace, CliUser cliUser, HttpServer server,
      ThreadPoolExecutor requests, Duration streamIdle) {
    this.config = config;
    this.secretDigest = sha256(secret);
    this.workspace = workspace;
    this.cliUser = cliUser;
    this.server = server;
    this.requests = requests;
    this.streams = new ThreadPoolExecutor(0, STREAM_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
        threads("runner-stream"));
    this.streamIdleMillis = streamIdle.toMillis();
  }

  /**
   * Listens as {@code config} says; {@code cliUser} is whom CLIs run as (null: the runner's own uid).
   *
   * @param secret the bytes a request's bearer token must equal
   */
  static RunnerServer start(RunnerConfig config, byte[] secret, CliUser cliUser) throws IOException {
    return start(config, secret, cliUser, STREAM_IDLE);
  }

  /** As {@link #start(RunnerConfig, byte[], CliUser)}, with streams that end after {@code streamIdle} of quiet. */
  static RunnerServer start(RunnerConfig config, byte[] secret, CliUser cliUser, Duration streamIdle)
      throws IOException {
    if (secret.length == 0) {
      throw new IllegalArgumentException("the secret is empty");
    }
    Path workspace = config.workspace().toRealPath();
    HttpServer server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
    // A request the queue cannot take is refused here; the JDK's dispatcher then closes its connection.
    ThreadPoolExecutor requests = new ThreadPoolExecutor(REQUEST_THREADS, REQUEST_THREADS, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(QUEUED_REQUESTS), threads("runner-http"));
    // Started now and kept: an agent whose processes take every pid the pod may have must still be killable.
    requests.prestartAllCoreThreads();
    RunnerServer runner = new RunnerServer(config, secret, workspace, cliUser, server, requests, streamIdle);
    server.createContext("/", runner::handle);
    server.setExecutor(requests);
    server.start();
    return runner;
  }

  private static ThreadFactory threads(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** How many streams and status waits are being served now. */
  int streaming() {
    return streams.getActiveCount();
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
    requests.shutdownNow();
    streams.shutdownNow();
  }

  /** What a request asks for that may last (a stream, a status wait): it runs on a stream thread. */
  private interface Lasting {
    void run() throws IOException;
  }

  private void handle(HttpExchange exchange) {
    Lasting lasting = null;
    try {
      lasting = route(exchange);
      if (lasting != null) {
        Lasting task = lasting;
        streams.execute(() -> {
          try (exchange) {
            task.run();
          } catch (IOException | RuntimeException e) {
            // the reader went away mid-stream; its connection is closed with the exchange
          }
        });
      }
    } catch (RejectedExecutionException e) {
      lasting = null;
      refuse(exchange, new ApiError(503, "busy", "the runner serves at most " + STREAM_THREADS
          + " streams and status waits at once; ask again"));
    } catch (ApiError e) {
      refuse(exchange, e);
    } catch (IOException e) {
      // the client went away; its connection is closed with the exchange
    } catch (RuntimeException e) {
      refuse(exchange, new ApiError(500, "internal", "the runner failed: " + e));
    } finally {
      if (lasting == null) {
        exchange.close();
      }
    }
  }

  /** Serves a request that is done at once, or returns what lasts, to be run on a stream thread. */
  private Lasting route(HttpExchange exchange) throws IOException, ApiError {
    String path = exchange.getRequestURI().getRawPath();
    String method = exchange.getRequestMethod();
    if (path.equals("/healthz")) {
      allow(method, "GET");
      sendJson(exchange, 200, "{\"status\":\"UP\"}");
      return null;
    }
    authenticate(exchange);
    // Read (bounded) before anything else: a request's body read to its end lets its connection serve the next.
    byte[] body = readBody(exchange);
    if (path.equals("/cli")) {
      if (method.equals("GET")) {
        list(exchange);
      } else {
        allow(method, "POST", "GET, POST");
        startCli(exchange, body);
      }
      return null;
    }
    Matcher m = INSTANCE_PATH.matcher(path);
    if (!m.matches()) {
      throw new ApiError(404, "not_found", "no such endpoint: " + path);
    }
    CliInstance cli = instance(m.group(1));
    String action = m.group(3);
    if (action == null) {
      allow(method, "GET");
      return status(exchange, cli);
    }
    switch (action) {
      case "stdin" -> {
        allow(method, "POST");
        String mark = query(exchange.getRequestURI(), "mark");
        if (mark != null && !MARK.matcher(mark).matches()) {
          throw new ApiError(400, "bad_request", "mark is 1 to 64 letters, digits, '_' or '-'");
        }
        if (!cli.alive()) {
          throw new ApiError(409, "cli_ended", "the CLI has ended (" + cli.exit() + "); nothing was written");
        }
        try {
          cli.write(body, mark);
        } catch (IOException e) {
          throw new ApiError(409, "cli_ended", "the CLI's stdin is closed (" + e.getMessage() + ")");
        }
        sendJson(exchange, 200, Json.write(Map.of("written", body.length)));
        return null;
      }
      case "stdout" -> {
        allow(method, "GET");
        return follow(exchange, cli.stdout());
      }
      case "stderr" -> {
        allow(method, "GET");
        return follow(exchange, cli.stderr());
      }
      default -> {
        allow(method, "POST");
        boolean all = cli.kill();
        sendJson(exchange, 200, Json.write(Map.of("killed", all)));
        return null;
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

  private void startCli(HttpExchange exchange, byte[] body) throws IOException, ApiError {
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
        cli = CliInstance.start(id, builder, cliUser, config.bufferBytes(), RunnerConfig.STDERR_BYTES);
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
    Path asked;
    try {
      asked = workspace.resolve(cwd).normalize();
    } catch (InvalidPathException e) {
      throw new ApiError(400, "bad_cwd", "cwd is not a path: " + e.getMessage());
    }
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
    // The path checked, not the one asked for: root changes into it before the uid switch, and a link on the way
    // that the agent's code swapped since the check would then lead elsewhere.
    return real;
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

  /** The status at once, or after a wait ({@code ?wait=MS}), which is run on a stream thread. */
  private Lasting status(HttpExchange exchange, CliInstance cli) throws IOException, ApiError {
    String wait = query(exchange.getRequestURI(), "wait");
    if (wait == null) {
      sendJson(exchange, 200, InstanceStatus.of(cli).toJson());
      return null;
    }
    long millis;
    try {
      millis = Math.min(60_000, Math.max(0, Long.parseLong(wait)));
    } catch (NumberFormatException e) {
      throw new ApiError(400, "bad_request", "wait is a number of milliseconds: " + wait);
    }
    return () -> {
      try {
        cli.await(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sendJson(exchange, 200, InstanceStatus.of(cli).toJson());
    };
  }

  /**
   * Streams a log from the query's {@code offset} (default 0) on, chunk by chunk as the CLI prints, until the CLI
   * has ended and every byte was sent, or until it printed nothing for the idle time (its reader, if it is still
   * there, asks again from its offset; one that is gone frees the thread). The response's {@code X-Runner-Offset}
   * is the offset of its first byte.
   */
  private Lasting follow(HttpExchange exchange, OutputLog log) throws ApiError {
    String o = query(exchange.getRequestURI(), "offset");
    long offset;
    try {
      offset = o == null ? 0 : Long.parseLong(o);
    } catch (NumberFormatException e) {
      throw new ApiError(400, "bad_offset", "offset is a byte offset (a number): " + o);
    }
    if (offset < 0) {
      throw new ApiError(400, "bad_offset", "offset is a byte offset (not negative): " + o);
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
    return () -> {
      exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
      exchange.getResponseHeaders().set("X-Runner-Offset", Long.toString(offset));
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      byte[] buf = new byte[16 * 1024];
      long at = offset;
      try {
        int n;
        while ((n = log.read(at, buf, streamIdleMillis)) > 0) {
          out.write(buf, 0, n);
          out.flush();
          at += n;
        }
      } catch (OutputLog.GoneException e) {
        // The reader fell behind the buffer mid-stream: the response ends there; the reader asks again from its
        // offset and gets the 410.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.close();
    };
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

  /**
   * Answers a refusal and closes the connection, reading none of the request's body that is left: the answer is
   * flushed first, and {@link Main} sets the JDK server to drain nothing, so a client that holds its body open
   * costs the runner no wait.
   */
  private static void refuse(HttpExchange exchange, ApiError e) {
    try {
      exchange.getResponseHeaders().set("Connection", "close");
      sendError(exchange, e);
      exchange.getResponseBody().close();
    } catch (IOException x) {
      // the client went away; its connection is closed with the exchange
    }
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
