package dev.agentplatform.testing;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A test client of the platform's WebSocket: frames land in a queue and the test thread takes the ones it
 * expects, in order, with a timeout (the pattern of Quarkus' ChatTest).
 *
 * <p>A client that asked for batches (docs/protocol.md, {@code options}) takes each {@code events} message apart
 * into the {@code event} frames it stands for, in order, so a test reads the same frames either way;
 * {@link #batchSizes()} tells how many events each {@code events} message carried.
 */
public final class WsClient implements AutoCloseable {

  public static final Duration WAIT = Duration.ofSeconds(60);

  private final BlockingQueue<JsonObject> incoming = new LinkedBlockingQueue<>();
  private final LinkedList<JsonObject> held = new LinkedList<>();
  private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final ConcurrentLinkedQueue<Integer> batchSizes = new ConcurrentLinkedQueue<>();
  private WebSocket socket;

  /** Connects without asking for batches: the frames of a client that does not know of them. */
  public static WsClient connect(URI uri, String user) throws Exception {
    return connect(uri, user, false);
  }

  /**
   * Connects; with {@code batch}, waits for the hello (kept for the test to take) and asks for batched events, so
   * every event after the reply may come in an {@code events} message.
   */
  public static WsClient connect(URI uri, String user, boolean batch) throws Exception {
    WsClient client = new WsClient();
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    if (user != null) {
      b.header("X-User", user);
    }
    client.socket = b.buildAsync(uri, client.new Listener()).get(15, TimeUnit.SECONDS);
    if (batch) {
      JsonObject hello = client.next(f -> "hello".equals(type(f)));
      client.held.addFirst(hello);
      JsonObject reply = client.call("options", Json.createObjectBuilder().add("batch", true));
      if (!"reply".equals(type(reply)) || !reply.getBoolean("batch", false)) {
        throw new AssertionError("batches refused: " + reply);
      }
    }
    return client;
  }

  /** How many events each {@code events} message carried, in arrival order (none for a client that did not ask). */
  public List<Integer> batchSizes() {
    return List.copyOf(batchSizes);
  }

  /** Sends a raw text frame. */
  public void sendRaw(String text) {
    socket.sendText(text, true).join();
  }

  /** Sends a request with a fresh id and returns its reply or error frame (other frames stay for later). */
  public JsonObject call(String type, JsonObjectBuilder fields) throws InterruptedException {
    String id = "r" + ids.incrementAndGet();
    sendRaw(fields.add("type", type).add("id", id).build().toString());
    return next(f -> id.equals(f.getString("id", null)) && ("reply".equals(type(f)) || "error".equals(type(f))));
  }

  public JsonObject call(String type) throws InterruptedException {
    return call(type, Json.createObjectBuilder());
  }

  /** Takes the first frame (held or arriving) that matches, within {@link #WAIT}. */
  public JsonObject next(Predicate<JsonObject> match) throws InterruptedException {
    return next(match, WAIT);
  }

  public JsonObject next(Predicate<JsonObject> match, Duration wait) throws InterruptedException {
    for (Iterator<JsonObject> it = held.iterator(); it.hasNext();) {
      JsonObject f = it.next();
      if (match.test(f)) {
        it.remove();
        return f;
      }
    }
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      JsonObject f = left > 0 ? incoming.poll(left, TimeUnit.NANOSECONDS) : null;
      if (f == null) {
        throw new AssertionError("no matching frame within " + wait + "; held: " + held);
      }
      if (match.test(f)) {
        return f;
      }
      held.add(f);
    }
  }

  /** The next event of an agent of the given kind (events of other kinds before it stay held). */
  public JsonObject event(String agentId, String kind) throws InterruptedException {
    return next(f -> "event".equals(type(f)) && agentId.equals(f.getJsonObject("event").getString("agentId"))
        && kind.equals(f.getJsonObject("event").getString("kind"))).getJsonObject("event");
  }

  /** All of an agent's events up to and including the first of {@code lastKind}, in arrival order. */
  public List<JsonObject> eventsUntil(String agentId, String lastKind) throws InterruptedException {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      JsonObject e = next(f -> "event".equals(type(f)) && agentId.equals(f.getJsonObject("event").getString("agentId")))
          .getJsonObject("event");
      out.add(e);
      if (lastKind.equals(e.getString("kind"))) {
        return out;
      }
    }
  }

  /**
   * Events of an agent up to and including the one with seq {@code lastSeq} (a replay of known history): waits for
   * that event, the one that means the replay is done, not for a quiet period.
   */
  public List<JsonObject> eventsThrough(String agentId, long lastSeq) throws InterruptedException {
    List<JsonObject> out = new ArrayList<>();
    while (out.isEmpty() || out.get(out.size() - 1).getJsonNumber("seq").longValue() < lastSeq) {
      out.add(next(f -> "event".equals(type(f)) && agentId.equals(f.getJsonObject("event").getString("agentId")))
          .getJsonObject("event"));
    }
    return out;
  }

  /** Events of an agent that are already held or arrive within {@code quiet} of each other. */
  public List<JsonObject> drainEvents(String agentId, Duration quiet) throws InterruptedException {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      try {
        out.add(next(f -> "event".equals(type(f)) && agentId.equals(f.getJsonObject("event").getString("agentId")),
            quiet)
            .getJsonObject("event"));
      } catch (AssertionError e) {
        return out;
      }
    }
  }

  /** The close code the server sent, waiting for it. */
  public int closeCode() throws Exception {
    return closeCode.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  public boolean isClosed() {
    return closeCode.isDone();
  }

  public static String type(JsonObject frame) {
    return frame.getString("type", "");
  }

  @Override
  public void close() {
    if (!closeCode.isDone()) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      socket.abort();
    }
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        JsonObject frame = Json.createReader(new StringReader(partial.toString())).readObject();
        partial.setLength(0);
        if ("events".equals(type(frame))) {
          JsonArray events = frame.getJsonArray("events");
          batchSizes.add(events.size());
          for (JsonValue e : events) {
            incoming.add(Json.createObjectBuilder().add("type", "event").add("event", e).build());
          }
        } else {
          incoming.add(frame);
        }
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closeCode.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closeCode.complete(-1);
    }
  }
}
