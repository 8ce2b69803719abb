package dev.agentplatform.runtime.runner;

import dev.agentplatform.runtime.cli.CliConnection;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonParsingException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A CLI kept by the runner in an agent's pod, reached over HTTP: stdin is one POST per flushed message, stdout and
 * stderr are followed from byte offsets, and a stream that drops while the CLI lives is asked for again from the
 * last offset read, so the bytes arrive with no gap and no duplicate.
 *
 * <p>A runner that does not answer is retried for {@code reconnectFor}; past that the CLI counts as lost (its
 * stdout ends and {@link #awaitExit} says why). Bytes the runner no longer holds end stdout with an error rather
 * than skip them: a stream-json reader must never see a line with a hole in it.
 */
public final class RunnerCli implements CliConnection {

  private static final Logger LOG = Logger.getLogger(RunnerCli.class.getName());
  private static final JsonProvider JSON = JsonProvider.provider();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** The most of an answer (not a stream) read from a runner: a runner is agent-side, so it may send anything. */
  public static final int MAX_ANSWER_BYTES = 64 * 1024;

  /** A runner's answer to a call: its status and at most {@link #MAX_ANSWER_BYTES} of its body. */
  private record Answer(int statusCode, String body) {
  }

  private final HttpClient http;
  private final RunnerEndpoint endpoint;
  private final String instance;
  private final Duration reconnectFor;
  private final Follower stdout;
  private final Follower stderr;
  private volatile boolean ended;
  private volatile String lost;
  /** The turn the next stdin write starts ({@link #markTurn}), sent with it as the runner's mark. */
  private volatile String nextMark;

  private RunnerCli(HttpClient http, RunnerEndpoint endpoint, String instance, long stdoutOffset,
      Duration reconnectFor) {
    this.http = http;
    this.endpoint = endpoint;
    this.instance = instance;
    this.reconnectFor = reconnectFor;
    this.stdout = new Follower("stdout", stdoutOffset, false);
    this.stderr = new Follower("stderr", 0, true);
  }

  /**
   * Asks the runner to start a CLI: the whole argument list, the whole environment (the runner adds nothing of its
   * own), and a working directory inside its workspace.
   *
   * @param http a client for HTTP/1.1 (the runner speaks nothing else), with a connect timeout: a pod that is gone
   *     must not hold a connect for the system's whole SYN timeout
   * @param reconnectFor how long a runner that stopped answering is asked again before the CLI counts as lost
   * @throws IOException when the runner cannot be reached or refuses (its typed error in the message)
   */
  public static RunnerCli start(HttpClient http, RunnerEndpoint endpoint, List<String> argv, Map<String, String> env,
      String cwd, Duration reconnectFor) throws IOException {
    JsonObjectBuilder envJson = JSON.createObjectBuilder();
    env.forEach(envJson::add);
    String body = JSON.createObjectBuilder().add("argv", JSON.createArrayBuilder(argv)).add("env", envJson)
        .add("cwd", cwd).build().toString();
    Answer r = send(http, endpoint, post(endpoint, "/cli", body.getBytes(
        java.nio.charset.StandardCharsets.UTF_8)));
    if (r.statusCode() != 200) {
      throw refused(endpoint, "start a CLI", r);
    }
    String id = json(r.body()).getString("instance", "");
    if (!id.matches("[0-9a-f]{1,64}")) {
      throw new IOException("the runner at " + endpoint + " answered no instance: " + r.body());
    }
    return new RunnerCli(http, endpoint, id, 0, reconnectFor);
  }

  /**
   * Takes up a CLI the runner already keeps (a platform that restarted finds the turn its predecessor left), reading
   * its stdout from {@code stdoutOffset} on.
   */
  public static RunnerCli attach(HttpClient http, RunnerEndpoint endpoint, String instance, long stdoutOffset,
      Duration reconnectFor) {
    return new RunnerCli(http, endpoint, instance, stdoutOffset, reconnectFor);
  }

  /**
   * A CLI the runner keeps, as {@code GET /cli} tells it.
   *
   * @param marks the turns its latest stdin writes started, oldest first, each with the stdout offset at which
   *     that turn's output begins
   */
  public record Kept(String instance, boolean alive, long stdoutBytes, Map<String, Long> marks) {
    public Kept {
      marks = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(marks));
    }
  }

  /** The CLIs the runner keeps (the running one and the last that ended), oldest first. */
  public static List<Kept> kept(HttpClient http, RunnerEndpoint endpoint) throws IOException {
    Answer r = send(http, endpoint, get(endpoint, "/cli"));
    if (r.statusCode() != 200) {
      throw refused(endpoint, "list its CLIs", r);
    }
    List<Kept> all = new java.util.ArrayList<>();
    try {
      for (JsonValue v : json(r.body()).getJsonArray("instances")) {
        JsonObject o = v.asJsonObject();
        Map<String, Long> marks = new java.util.LinkedHashMap<>();
        o.getJsonObject("marks").forEach((turn, offset) -> marks.put(turn, ((jakarta.json.JsonNumber) offset)
            .longValueExact()));
        String id = o.getString("instance");
        if (!id.matches("[0-9a-f]{1,64}")) {
          throw new IOException("the runner at " + endpoint + " named an instance that is no id: " + id);
        }
        all.add(new Kept(id, o.getBoolean("alive"), o.getJsonNumber("stdoutBytes").longValueExact(), marks));
      }
    } catch (RuntimeException e) {
      throw new IOException("the runner at " + endpoint + " listed its CLIs in a shape not understood: " + e, e);
    }
    return all;
  }

  /** The runner's id of this CLI. */
  public String instance() {
    return instance;
  }

  /** The stdout offset read so far: where a platform that takes this CLI up again goes on from. */
  public long stdoutOffset() {
    return stdout.offset;
  }

  @Override
  public OutputStream stdin() {
    return new OutputStream() {
      private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

      @Override
      public synchronized void write(int b) {
        pending.write(b);
      }

      @Override
      public synchronized void write(byte[] b, int off, int len) {
        pending.write(b, off, len);
      }

      /** Sends what was written since the last flush as one request (CliSession flushes once a message). */
      @Override
      public synchronized void flush() throws IOException {
        if (pending.size() == 0) {
          return;
        }
        byte[] bytes = pending.toByteArray();
        pending.reset();
        String mark = nextMark;
        nextMark = null;
        Answer r = send(http, endpoint, post(endpoint, path("/stdin") + (mark == null ? "" : "?mark=" + mark),
            bytes));
        if (r.statusCode() != 200) {
          throw refused(endpoint, "write to the CLI", r);
        }
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }

  /** The runner keeps the turn's id with the stdout offset its output begins at (ids are {@code [A-Za-z0-9_-]}). */
  @Override
  public void markTurn(String turnId) {
    nextMark = turnId != null && turnId.matches("[A-Za-z0-9_-]{1,64}") ? turnId : null;
  }

  @Override
  public InputStream stdout() {
    return stdout;
  }

  @Override
  public InputStream stderr() {
    return stderr;
  }

  /** False once stdout has ended (the CLI ended, or the runner was lost); no request is made. */
  @Override
  public boolean alive() {
    return !ended;
  }

  /** Asks the runner to kill the CLI's process tree; returns at once (the caller may be a WebSocket thread). */
  @Override
  public void kill() {
    http.sendAsync(post(endpoint, path("/kill"), new byte[0]), HttpResponse.BodyHandlers.discarding())
        .whenComplete((r, e) -> {
          if (e != null) {
            LOG.log(Level.FINE, "could not ask the runner at " + endpoint + " to kill " + instance, e);
          }
        });
  }

  /**
   * Gives the CLI up: its pod is gone. Its streams end now (a read waiting on a runner that can no longer answer
   * returns), and {@link #awaitExit} says {@code why} without asking the runner.
   */
  @Override
  public void lose(String why) {
    lost = why;
    ended = true;
    stdout.abandon();
    stderr.abandon();
  }

  /**
   * Asks the runner how the CLI ended, waiting for its end (it is called once stdout has ended, so the CLI is ending);
   * a CLI still running after {@code reconnectFor} (at least 30 s) is killed, and a runner that does not answer for
   * that long is reported as such.
   */
  @Override
  public String awaitExit() throws InterruptedException {
    if (lost != null) {
      return lost;
    }
    long deadline = System.nanoTime() + Math.max(reconnectFor.toNanos(), Duration.ofSeconds(30).toNanos());
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try {
        Answer r = send(http, endpoint, get(endpoint, path("?wait=10000")));
        if (r.statusCode() == 404) {
          return "the runner at " + endpoint + " no longer knows instance " + instance + " (it restarted)";
        }
        if (r.statusCode() != 200) {
          throw refused(endpoint, "tell how the CLI ended", r);
        }
        last = null;
        JsonObject status = json(r.body());
        if (!status.getBoolean("alive", true)) {
          ended = true;
          return status.isNull("exit") ? "ended" : status.getString("exit");
        }
      } catch (IOException e) {
        last = e;
        Thread.sleep(200);
      }
    }
    if (last != null) {
      return "the runner at " + endpoint + " did not answer: " + last.getMessage();
    }
    kill();
    return "its output ended but it still ran; killed";
  }

  @Override
  public String describe() {
    return "runner " + endpoint + " instance " + instance;
  }

  private String path(String rest) {
    return "/cli/" + instance + rest;
  }

  private static HttpRequest get(RunnerEndpoint endpoint, String path) {
    return HttpRequest.newBuilder(endpoint.uri(path)).timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + endpoint.secret()).GET().build();
  }

  private static HttpRequest post(RunnerEndpoint endpoint, String path, byte[] body) {
    return HttpRequest.newBuilder(endpoint.uri(path)).timeout(REQUEST_TIMEOUT)
        .header("Authorization", "Bearer " + endpoint.secret()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
  }

  private static Answer send(HttpClient http, RunnerEndpoint endpoint, HttpRequest request) throws IOException {
    try {
      HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        byte[] body = in.readNBytes(MAX_ANSWER_BYTES + 1);
        if (body.length > MAX_ANSWER_BYTES) {
          throw new IOException("the runner at " + endpoint + " answered more than " + MAX_ANSWER_BYTES
              + " bytes to " + request.method() + " " + request.uri().getPath());
        }
        return new Answer(r.statusCode(), new String(body, StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while calling the runner at " + endpoint, e);
    }
  }

  private static IOException refused(RunnerEndpoint endpoint, String what, Answer r) {
    String detail;
    try {
      JsonObject error = json(r.body());
      detail = error.getString("message", "") + " (" + error.getString("error", "") + ")";
    } catch (IOException e) {
      detail = "HTTP " + r.statusCode();
    }
    return new IOException("the runner at " + endpoint + " refused to " + what + ": " + detail);
  }

  private static JsonObject json(String body) throws IOException {
    try (var reader = JSON.createReader(new StringReader(body))) {
      JsonValue v = reader.readValue();
      if (v instanceof JsonObject o) {
        return o;
      }
    } catch (JsonParsingException | IllegalStateException e) {
      throw new IOException("the runner's answer is not JSON: " + body, e);
    }
    throw new IOException("the runner's answer is not a JSON object: " + body);
  }

  /**
   * One of the CLI's output streams as a plain InputStream: a response followed from an offset, asked for again
   * from the offset reached when it breaks while the CLI runs.
   */
  private final class Follower extends InputStream {
    private final String name;
    private final boolean skipGaps;
    private volatile long offset;
    private volatile InputStream current;
    private volatile boolean done;

    Follower(String name, long offset, boolean skipGaps) {
      this.name = name;
      this.offset = offset;
      this.skipGaps = skipGaps;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      // The reconnect window starts at the first failure since the runner last answered, not at this call: a read
      // may wait on a quiet CLI far longer than the window before its stream breaks.
      long since = 0;
      boolean failing = false;
      long pause = 50;
      while (!done) {
        try {
          if (current == null) {
            current = open();
            failing = false;
            if (current == null) {
              continue; // a gap skipped: ask again from the new offset
            }
          }
          int n = current.read(b, off, len);
          if (n > 0) {
            offset += n;
            return n;
          }
          closeCurrent();
          if (done) {
            return -1; // given up on (lose): the runner is not asked again
          }
          // The runner ends a stream only once the CLI ended and every byte was sent; make sure of it.
          if (finished()) {
            end();
            return -1;
          }
          // Ended with the CLI still running (the runner ends a stream after a quiet spell): ask again, but not in a
          // tight loop.
          pause = backOff(pause);
        } catch (GoneException e) {
          end();
          if (this == stdout) {
            kill(); // a CLI whose output cannot be read any more is of no use: end it
          }
          throw e;
        } catch (IOException e) {
          closeCurrent();
          if (done) {
            return -1;
          }
          if (!failing) {
            failing = true;
            since = System.nanoTime();
          }
          if (System.nanoTime() - since > reconnectFor.toNanos()) {
            String why = "the runner at " + endpoint + " was lost while reading the CLI's " + name + ": "
                + e.getMessage();
            if (this == stdout) {
              lost = why;
            }
            end();
            throw new IOException(why, e);
          }
          LOG.log(Level.FINE, () -> "the " + name + " of " + describe() + " broke at offset " + offset
              + " (" + e.getMessage() + "); asking again");
          pause = backOff(pause);
        }
      }
      return -1;
    }

    /** Waits {@code pause} ms before the next request to the runner; the next wait is twice as long, up to 1 s. */
    private long backOff(long pause) throws IOException {
      try {
        Thread.sleep(pause);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while reconnecting to the runner", x);
      }
      return Math.min(1000, pause * 2);
    }

    /** The stream from {@link #offset}; null when a gap was skipped (stderr only). */
    private InputStream open() throws IOException {
      HttpResponse<InputStream> r;
      try {
        // The timeout bounds the wait for the answer's headers (a runner that takes the connection and says
        // nothing); the stream itself may then last as long as the CLI runs.
        r = http.send(get(endpoint, path("/" + name + "?offset=" + offset)), HttpResponse.BodyHandlers
            .ofInputStream());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while calling the runner at " + endpoint, e);
      }
      if (r.statusCode() == 200) {
        return r.body();
      }
      String body;
      try (InputStream in = r.body()) {
        body = new String(in.readNBytes(64 * 1024), java.nio.charset.StandardCharsets.UTF_8);
      }
      if (r.statusCode() == 410) {
        long earliest = json(body).getJsonNumber("earliest").longValueExact();
        if (skipGaps && earliest > offset) {
          offset = earliest;
          return null;
        }
        throw new GoneException("the runner no longer holds the CLI's " + name + " from offset " + offset
            + " (it keeps from " + earliest + " on; RUNNER_BUFFER_BYTES): " + (earliest - offset) + " bytes lost");
      }
      if (r.statusCode() == 404 || r.statusCode() == 401 || r.statusCode() == 416) {
        throw new GoneException("the runner at " + endpoint + " refused the CLI's " + name + " (HTTP "
            + r.statusCode() + "): " + body);
      }
      throw new IOException("the runner at " + endpoint + " answered HTTP " + r.statusCode() + ": " + body);
    }

    /** Whether the CLI has ended and every byte of this stream has been read. */
    private boolean finished() throws IOException {
      Answer r = send(http, endpoint, get(endpoint, path("")));
      if (r.statusCode() != 200) {
        throw refused(endpoint, "tell the CLI's status", r);
      }
      JsonObject status = json(r.body());
      return !status.getBoolean("alive", true)
          && status.getJsonNumber(name + "Bytes").longValueExact() <= offset;
    }

    private void end() {
      done = true;
      if (this == stdout) {
        ended = true;
      }
    }

    private void closeCurrent() {
      if (current != null) {
        closeQuietly(current);
        current = null;
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        closeCurrent();
        done = true;
      }
    }

    /** Ends the stream from another thread, also while a read waits on a runner that cannot answer. */
    void abandon() {
      done = true;
      InputStream c = current;
      if (c != null) {
        closeQuietly(c);
      }
    }

    private void closeQuietly(InputStream stream) {
      try {
        stream.close();
      } catch (IOException e) {
        LOG.log(Level.FINEST, "closing a runner stream", e);
      }
    }
  }

  /** The runner cannot give what is asked for, and asking again will not change that. */
  private static final class GoneException extends IOException {
    private static final long serialVersionUID = 1L;

    GoneException(String message) {
      super(message);
    }
  }
}
