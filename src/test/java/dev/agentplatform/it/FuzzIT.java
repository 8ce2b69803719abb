package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 10,000 hostile frames against the live server (mutations of valid frames, random text, deep nesting, huge
 * numbers, surrogates, trailing garbage, wrong types): each is answered by exactly one reply or typed error, never
 * {@code internal}, and the server log gets no stack trace. A smaller REST variant does the same for bodies.
 * The seed is printed, so a failure can be replayed.
 */
class FuzzIT {

  private static final int FRAMES = 10_000;
  private static final int BODIES = 400;
  private static final Duration BUDGET = Duration.ofMinutes(8);
  private static final String NO_AGENT = "0123456789abcdef0123456789abcdef";

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(java.util.Map.of());
  }

  private static final String[] SEEDS = {
      "{\"type\":\"ping\",\"id\":\"1\"}",
      "{\"type\":\"agent.list\",\"id\":2}",
      "{\"type\":\"agent.get\",\"id\":\"3\",\"agentId\":\"" + NO_AGENT + "\"}",
      "{\"type\":\"agent.create\",\"id\":\"4\",\"agent\":{\"name\":\"fuzz\",\"instructions\":\"x\","
          + "\"model\":\"sonnet\",\"allowedTools\":[\"Write\"]}}",
      "{\"type\":\"agent.update\",\"id\":\"5\",\"agentId\":\"" + NO_AGENT + "\",\"changes\":{\"model\":\"opus\"}}",
      "{\"type\":\"agent.delete\",\"id\":\"6\",\"agentId\":\"" + NO_AGENT + "\"}",
      "{\"type\":\"send\",\"id\":\"7\",\"agentId\":\"" + NO_AGENT + "\",\"text\":\"hello\"}",
      "{\"type\":\"interrupt\",\"id\":\"8\",\"agentId\":\"" + NO_AGENT + "\"}",
      "{\"type\":\"subscribe\",\"id\":\"9\",\"agentId\":\"" + NO_AGENT + "\",\"afterSeq\":10}",
      "{\"type\":\"unsubscribe\",\"id\":\"10\",\"agentId\":\"" + NO_AGENT + "\"}",
  };

  private static final String[] PIECES = {"{", "}", "[", "]", "\"", "\\", ":", ",", "\\u", "\\ud800", "\\udc00",
      "\\ud83d\\ude00", "null", "true", "-", "0", "1e999999999", "99999999999999999999999", "-0", "1.5", "\u0000",
      "\u00e9", "\ud83d\ude00", "\u2028", " ", "\n", "\"id\"", "\"type\"", "\"afterSeq\"", "\"agentId\""};

  private static final String[] WRONG = {"null", "true", "1", "-1", "1.5", "1e999999999", "\"\"", "[]", "{}",
      "[\"x\"]", "{\"a\":1}", "\"\\ud800\"", "99999999999999999999", "\"" + "x".repeat(300) + "\""};

  /**
   * One hostile frame, at most 60,000 characters (under the test server's MAX_FRAME_BYTES). A mutation that splits
   * a surrogate pair leaves an unpaired surrogate, which no UTF-8 text frame can carry: it is sent as its JSON
   * escape instead (the server must refuse both; invalid UTF-8 itself is ProtocolErrorsIT's).
   */
  static String frame(Random r) {
    return sendable(anyFrame(r));
  }

  private static String sendable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static String anyFrame(Random r) {
    String seed = SEEDS[r.nextInt(SEEDS.length)];
    return switch (r.nextInt(9)) {
      case 0, 1, 2 -> mutate(seed, r);
      case 3 -> randomText(r);
      case 4 -> nesting(r);
      case 5 -> seed.substring(0, seed.length() - 1) + ",\"afterSeq\":" + WRONG[r.nextInt(WRONG.length)] + "}";
      case 6 -> seed + PIECES[r.nextInt(PIECES.length)] + (r.nextBoolean() ? seed : "");
      case 7 -> wrongType(seed, r);
      default -> "{\"type\":\"ping\",\"id\":" + WRONG[r.nextInt(WRONG.length)] + "}";
    };
  }

  private static String mutate(String s, Random r) {
    StringBuilder b = new StringBuilder(s);
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n && b.length() > 0; i++) {
      int at = r.nextInt(b.length());
      switch (r.nextInt(5)) {
        case 0 -> b.deleteCharAt(at);
        case 1 -> b.insert(at, PIECES[r.nextInt(PIECES.length)]);
        case 2 -> b.setCharAt(at, (char) (32 + r.nextInt(95)));
        case 3 -> b.setLength(at);
        default -> b.insert(at, b.substring(at, Math.min(b.length(), at + 1 + r.nextInt(20))));
      }
    }
    return b.toString();
  }

  private static String randomText(Random r) {
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(200);
    for (int i = 0; i < n; i++) {
      int cp = r.nextInt(4) == 0 ? 0x80 + r.nextInt(0x10000 - 0x80) : r.nextInt(128);
      if (Character.isSurrogate((char) cp)) {
        b.appendCodePoint(0x1F600 + r.nextInt(64));
      } else {
        b.appendCodePoint(cp);
      }
    }
    return b.toString();
  }

  private static String nesting(Random r) {
    int depth = 1 + r.nextInt(10_000);
    String open = r.nextBoolean() ? "[" : "{\"a\":";
    String body = open.repeat(depth);
    if (r.nextBoolean()) {
      body = body + "1" + (open.equals("[") ? "]" : "}").repeat(depth);
    }
    return r.nextBoolean() ? body : "{\"type\":\"ping\",\"id\":\"n\",\"x\":" + body + "}";
  }

  private static String wrongType(String seed, Random r) {
    JsonObject o = Json.createReader(new StringReader(seed)).readObject();
    List<String> keys = List.copyOf(o.keySet());
    String key = keys.get(r.nextInt(keys.size()));
    StringBuilder b = new StringBuilder("{");
    for (String k : keys) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append('"').append(k).append("\":").append(k.equals(key) ? WRONG[r.nextInt(WRONG.length)] : o.get(k));
    }
    return b.append('}').toString();
  }

  @Test
  void tenThousandHostileFramesGetTypedAnswersAndNeverInternal() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    System.out.println("FuzzIT frames seed: " + seed + " (replay with -Dfuzz.seed=" + seed + ")");
    Random r = new Random(seed);
    long logFrom = platform.messagesLogMark();
    long deadline = System.nanoTime() + BUDGET.toNanos();
    Map<String, Integer> codes = new TreeMap<>();
    int sent = 0;
    for (int conn = 0; conn < 4; conn++) {
      try (WsClient ws = platform.connect("fuzz-" + conn)) {
        for (int i = 0; i < FRAMES / 4; i++) {
          assertTrue(System.nanoTime() < deadline, "the fuzz run stays within " + BUDGET + " (" + sent + " sent)");
          String frame = frame(r);
          ws.sendRaw(frame);
          sent++;
          JsonObject answer = ws.next(f -> Set.of("reply", "error").contains(WsClient.type(f)));
          String code = "reply".equals(WsClient.type(answer)) ? "reply" : answer.getString("code");
          codes.merge(code, 1, Integer::sum);
          assertTrue(!"internal".equals(code), "frame " + sent + " got internal: " + abbreviate(frame));
          assertTrue(Set.of("reply", "bad_request", "not_found").contains(code),
              "frame " + sent + " got " + answer + ": " + abbreviate(frame));
        }
        assertTrue(ws.call("ping").getBoolean("pong"), "the connection is still open after its frames");
        assertTrue(!ws.isClosed());
      }
    }
    System.out.println("FuzzIT: " + sent + " frames, answers " + codes);
    assertEquals(FRAMES, sent);
    assertEquals(FRAMES, codes.values().stream().mapToInt(Integer::intValue).sum(), "every frame was answered");
    assertEquals(0, codes.getOrDefault("internal", 0));
    List<String> traces = ItSupport.stackTraces(platform.messagesLogSince(logFrom));
    assertTrue(traces.isEmpty(), "no stack trace in the server log: " + traces.subList(0, Math.min(20, traces.size())));
  }

  @Test
  void hostileRestBodiesGetTypedJsonErrors() throws Exception {
    long seed = Long.getLong("fuzz.seed", System.nanoTime());
    System.out.println("FuzzIT bodies seed: " + seed);
    Random r = new Random(seed);
    long logFrom = platform.messagesLogMark();
    String valid = "{\"name\":\"fuzz\",\"instructions\":\"x\",\"model\":\"sonnet\",\"allowedTools\":[\"Write\"]}";
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (int i = 0; i < BODIES; i++) {
      String body = sendable(switch (r.nextInt(5)) {
        case 0, 1 -> mutate(valid, r);
        case 2 -> nesting(r);
        case 3 -> randomText(r);
        default -> valid + PIECES[r.nextInt(PIECES.length)];
      });
      String method = r.nextBoolean() ? "POST" : "PATCH";
      String path = method.equals("POST") ? "/api/agents" : "/api/agents/" + NO_AGENT;
      HttpResponse<String> resp = platform.call(method, path, "fuzz-rest", body);
      statuses.merge(resp.statusCode(), 1, Integer::sum);
      assertTrue(Set.of(201, 400, 404).contains(resp.statusCode()),
          method + " got " + resp.statusCode() + " " + resp.body() + " for " + abbreviate(body));
      if (resp.statusCode() >= 400) {
        JsonObject error = Json.createReader(new StringReader(resp.body())).readObject();
        assertTrue(error.containsKey("code") && error.containsKey("message"), resp.body());
      }
    }
    System.out.println("FuzzIT: " + BODIES + " bodies, statuses " + statuses);
    List<String> traces = ItSupport.stackTraces(platform.messagesLogSince(logFrom));
    assertTrue(traces.isEmpty(), "no stack trace in the server log: " + traces.subList(0, Math.min(20, traces.size())));
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "... (" + s.length() + " chars)" : s;
  }
}
