package dev.agentplatform.bench;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.RawWebSocket;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fan-out: many WebSocket subscribers on one agent while it streams a long reply (the real CLI and the scripted
 * model's {@code #slow N MS}: N text deltas, MS milliseconds apart). Each event's latency is from its {@code ts}
 * (when the server queued it to be stored) to when a subscriber received its frame; reports p50/p90/p99/max and the
 * events delivered per second over all subscribers. Run by {@code bench/run fanout [STORE] [N MS] [SUBSCRIBERS,...]}.
 */
public final class FanoutBenchmark {

  public static void main(String[] args) throws Exception {
    String store = args.length > 0 ? args[0] : "embedded";
    int deltas = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int pauseMs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    List<Integer> counts = new ArrayList<>();
    for (String c : (args.length > 3 ? args[3] : "1,100").split(",")) {
      counts.add(Integer.parseInt(c.trim()));
    }
    String delivery = args.length > 4 ? args[4] : "both";
    List<Boolean> ways = new ArrayList<>();
    for (String way : ("both".equals(delivery) ? "frames,batched" : delivery).split(",")) {
      switch (way.trim()) {
        case "frames" -> ways.add(false);
        case "batched" -> ways.add(true);
        default -> throw new IllegalArgumentException("delivery: frames, batched, both or a list, not " + delivery);
      }
    }
    boolean rawClient = args.length > 5 && "raw".equals(args[5]);
    Platform platform = Platform.get();
    platform.restart(storeEnv(store));

    StringBuilder md = new StringBuilder();
    md.append("Measured by `bench/run fanout` (").append(BenchReport.machine()).append("), ").append(store)
        .append(" store: the real CLI streams a reply of ").append(deltas).append(" text deltas ").append(pauseMs)
        .append(" ms apart (`#slow ").append(deltas).append(' ').append(pauseMs).append("`) to every subscriber of one")
        .append(" agent. Latency is from an event's `ts` (queued to be stored) to its arrival at a subscriber;")
        .append(" events/s counts events delivered to all subscribers together, from the first to the last. Delivery")
        .append(" `frames`: each event in its own `event` frame; `batched`: the subscribers asked for batches, so the")
        .append(" events queued for a connection when its writer runs go in one `events` message.\n\n");
    md.append("| delivery | subscribers | events per subscriber | messages per subscriber | p50 ms | p90 ms | p99 ms |")
        .append(" max ms | delivered events/s | server CPU µs per delivered event |")
        .append(" client CPU µs per delivered event |\n");
    md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    HttpClient http = HttpClient.newHttpClient();
    for (int n : counts) {
      // A warm-up as long as a measured run, so that the first way measured is not the one the server's JIT is
      // least warmed up for.
      Result warmUp = run(platform, http, n, deltas, pauseMs, ways.get(0), rawClient);
      System.out.println("warm-up with " + n + " subscribers: " + warmUp.row(n, ways.get(0)));
      for (boolean batch : ways) {
        Result r = run(platform, http, n, deltas, pauseMs, batch, rawClient);
        System.out.println(r.row(n, batch));
        md.append(r.row(n, batch)).append('\n');
      }
    }
    System.out.println(md);
    if (!"no".equals(System.getProperty("bench.write"))) {
      BenchReport.writeSection("Fan-out to many subscribers (" + store + " store)", md.toString());
    }
    platform.stop();
    System.exit(0);
  }

  static Map<String, String> storeEnv(String store) {
    Map<String, String> env = new HashMap<>();
    env.put("STORE", store);
    if ("embedded".equals(store)) {
      env.put("FIRESTORE_EMULATOR_HOST", null);
      env.put("FIRESTORE_PROJECT_ID", null);
    }
    return env;
  }

  /** One streamed reply to {@code n} subscribers of a new agent. */
  private static Result run(Platform platform, HttpClient http, int n, int deltas, int pauseMs, boolean batch,
      boolean rawClient) throws Exception {
    List<Subscriber> subs = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        subs.add(rawClient ? Subscriber.connectRaw(platform, "bench-fanout", batch)
            : Subscriber.connect(http, platform, "bench-fanout", batch));
      }
      Subscriber driver = subs.get(0);
      JsonObject created = driver.call(Json.createObjectBuilder().add("type", "agent.create")
          .add("agent", Json.createObjectBuilder().add("name", "fanout")));
      String agent = created.getJsonObject("agent").getString("id");
      for (Subscriber s : subs) {
        s.call(Json.createObjectBuilder().add("type", "subscribe").add("agentId", agent).add("afterSeq", 0));
        s.events.clear();
        s.messages.set(0);
      }
      ProcessHandle server = platform.serverProcess();
      Duration cpuBefore = cpu(server);
      Duration clientBefore = cpu(ProcessHandle.current());
      driver.call(Json.createObjectBuilder().add("type", "send").add("agentId", agent)
          .add("text", "#slow " + deltas + " " + pauseMs));
      for (Subscriber s : subs) {
        if (!s.done.await(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException("a subscriber saw no turn end within 5 minutes");
        }
      }
      Duration serverCpu = cpu(server).minus(cpuBefore);
      Duration clientCpu = cpu(ProcessHandle.current()).minus(clientBefore);
      driver.call(Json.createObjectBuilder().add("type", "agent.delete").add("agentId", agent));
      return Result.of(subs, serverCpu, clientCpu);
    } finally {
      subs.forEach(Subscriber::close);
    }
  }

  /** The CPU time a process has used so far (user and system); the client's own includes its JIT. */
  private static Duration cpu(ProcessHandle process) {
    return process.info().totalCpuDuration()
        .orElseThrow(() -> new IllegalStateException("this system does not report the server's CPU time"));
  }

  /** Latencies, throughput and the server's CPU time per delivered frame of one run. */
  record Result(List<Double> latencies, int perSubscriber, int messagesPerSubscriber, double eventsPerSecond,
      double cpuMicrosPerFrame, double clientCpuMicrosPerFrame) {
    static Result of(List<Subscriber> subs, Duration serverCpu, Duration clientCpu) {
      List<Double> lat = new ArrayList<>();
      long first = Long.MAX_VALUE;
      long last = Long.MIN_VALUE;
      int total = 0;
      long messages = 0;
      for (Subscriber s : subs) {
        messages += s.messages.get();
        for (Received r : s.events) {
          lat.add((r.atMicros - r.tsMicros) / 1000.0);
          first = Math.min(first, r.atMicros);
          last = Math.max(last, r.atMicros);
          total++;
        }
      }
      double seconds = Math.max(1, last - first) / 1e6;
      return new Result(BenchReport.sorted(lat), total / subs.size(), (int) (messages / subs.size()), total / seconds,
          serverCpu.toNanos() / 1000.0 / Math.max(1, total), clientCpu.toNanos() / 1000.0 / Math.max(1, total));
    }

    String row(int n, boolean batch) {
      return String.format("| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f |", batch ? "batched"
          : "frames", n, perSubscriber, messagesPerSubscriber,
          BenchReport.percentile(latencies, 50), BenchReport.percentile(latencies, 90),
          BenchReport.percentile(latencies, 99), latencies.get(latencies.size() - 1), eventsPerSecond,
          cpuMicrosPerFrame, clientCpuMicrosPerFrame);
    }
  }

  /** An event as it arrived: its ts and the arrival time, both in microseconds since the epoch. */
  record Received(long tsMicros, long atMicros) {
  }

  /**
   * One WebSocket subscriber that does as little as it can when a frame arrives (notes the time and the frame's
   * {@code ts}), so that the client side adds little to what is measured; replies are parsed for the caller.
   */
  static final class Subscriber implements WebSocket.Listener {
    final ConcurrentLinkedQueue<Received> events = new ConcurrentLinkedQueue<>();
    /** The messages that carried events: one per event, or fewer with batches. */
    final AtomicLong messages = new AtomicLong();
    final CountDownLatch done = new CountDownLatch(1);
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private static final String TS = "\"ts\":\"";
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;
    private RawWebSocket raw;
    private int ids;

    static Subscriber connect(HttpClient http, Platform platform, String user, boolean batch) throws Exception {
      Subscriber s = new Subscriber();
      s.socket = http.newWebSocketBuilder().header("X-User", user).connectTimeout(Duration.ofSeconds(10))
          .buildAsync(platform.ws(), s).get(30, TimeUnit.SECONDS);
      s.reply("hello");
      if (batch) {
        s.call(Json.createObjectBuilder().add("type", "options").add("batch", true));
      }
      return s;
    }

    JsonObject call(jakarta.json.JsonObjectBuilder request) throws Exception {
      String id = "f" + (++ids);
      String text = request.add("id", id).build().toString();
      if (raw != null) {
        raw.sendText(text);
      } else {
        socket.sendText(text, true).get(30, TimeUnit.SECONDS);
      }
      return reply(id);
    }

    /** The next reply (or the hello, for {@code "hello"}); an error frame is thrown. */
    private JsonObject reply(String id) throws Exception {
      while (true) {
        String frame = replies.poll(60, TimeUnit.SECONDS);
        if (frame == null) {
          throw new IllegalStateException("no reply to " + id + " within 60 s");
        }
        JsonObject o = Json.createReader(new StringReader(frame)).readObject();
        String type = o.getString("type", "");
        if ("error".equals(type)) {
          throw new IllegalStateException(frame);
        }
        if ("hello".equals(id) ? "hello".equals(type) : id.equals(o.getString("id", null))) {
          return o;
        }
      }
    }

    /**
     * A subscriber on a plain socket read by a thread of its own (testing.RawWebSocket), against the JDK's WebSocket
     * client, whose one selector thread reads all 100 sockets (both cost the client about as much CPU per message).
     */
    static Subscriber connectRaw(Platform platform, String user, boolean batch) throws Exception {
      Subscriber s = new Subscriber();
      s.raw = RawWebSocket.open(platform.httpPort(), Map.of("X-User", user));
      if (s.raw.status() != 101) {
        throw new IllegalStateException("the WebSocket handshake got HTTP " + s.raw.status());
      }
      Thread reader = new Thread(s::readRaw, "bench-subscriber");
      reader.setDaemon(true);
      reader.start();
      s.reply("hello");
      if (batch) {
        s.call(Json.createObjectBuilder().add("type", "options").add("batch", true));
      }
      return s;
    }

    private void readRaw() {
      StringBuilder message = new StringBuilder();
      try {
        while (true) {
          RawWebSocket.Frame f = raw.read(Duration.ofMinutes(10));
          if (f == null || f.opcode() == 0x8) {
            return;
          }
          if (f.opcode() == 0x9) {
            raw.send(0xA, true, f.payload());
          } else if (f.opcode() == 0x1 || f.opcode() == 0x0) {
            // Frames are not fragmented by this server; a fragment would end with the next frame of opcode 0.
            message.append(f.text());
            received(message.toString(), nowMicros());
            message.setLength(0);
          }
        }
      } catch (java.io.IOException e) {
        replies.add("{\"type\":\"error\",\"message\":\"" + e + "\"}");
      }
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      long at = nowMicros();
      partial.append(data);
      if (last) {
        String frame = partial.toString();
        partial.setLength(0);
        received(frame, at);
      }
      ws.request(1);
      return null;
    }

    private void received(String frame, long at) {
      if (frame.startsWith("{\"type\":\"event")) {
        // An event frame or an events message: every event's ts in it ("ts":" occurs in JSON text only as a key:
        // inside a string every quote is escaped).
        messages.incrementAndGet();
        for (int from = frame.indexOf(TS); from >= 0; from = frame.indexOf(TS, from + 1)) {
          events.add(new Received(tsMicros(frame, from), at));
        }
        if (frame.contains("\"kind\":\"turn_completed\"") || frame.contains("\"kind\":\"turn_failed\"")) {
          done.countDown();
        }
      } else {
        replies.add(frame);
      }
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      replies.add("{\"type\":\"error\",\"message\":\"" + error + "\"}");
    }

    void close() {
      if (raw != null) {
        try {
          raw.close();
        } catch (java.io.IOException e) {
          // closing anyway
        }
        return;
      }
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      socket.abort();
    }

    private static long nowMicros() {
      Instant now = Instant.now();
      return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    private static long tsMicros(String frame, int from) {
      int at = from + TS.length();
      Instant ts = Instant.parse(frame.substring(at, frame.indexOf('"', at)));
      return ts.getEpochSecond() * 1_000_000 + ts.getNano() / 1000;
    }
  }
}
