package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.RawWebSocket;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind of bad frame gets its typed error, and the connection stays usable (except for an oversized frame). */
class ProtocolErrorsIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  private static JsonObject error(WsClient ws) throws InterruptedException {
    return ws.next(f -> "error".equals(WsClient.type(f)));
  }

  private static void stillUsable(WsClient ws) throws InterruptedException {
    assertTrue(ws.call("ping").getBoolean("pong"), "the connection still answers");
  }

  @Test
  void badFramesGetTypedErrorsAndTheConnectionStaysOpen() throws Exception {
    try (WsClient ws = platform.connect("carol")) {
      ws.sendRaw("{this is not json");
      JsonObject malformed = error(ws);
      assertEquals("bad_request", malformed.getString("code"));
      assertTrue(malformed.isNull("id"));
      stillUsable(ws);

      ws.sendRaw("[\"an\",\"array\"]");
      assertEquals("a frame must be a JSON object", error(ws).getString("message"));
      ws.sendRaw("{\"type\":\"ping\"}");
      assertTrue(error(ws).getString("message").startsWith("id:"));
      stillUsable(ws);

      JsonObject unknown = ws.call("self.destruct");
      assertEquals("bad_request", unknown.getString("code"));
      assertTrue(unknown.getString("message").contains("unknown type"));

      assertEquals("agentId: required", ws.call("send", Json.createObjectBuilder().add("text", "x")).getString(
          "message"));
      assertEquals("afterSeq: must be a whole number, 0 or more", ws.call("subscribe",
          Json.createObjectBuilder().add("agentId", "a").add("afterSeq", "soon")).getString("message"));
      assertEquals("name: required, 1 to 100 characters", ws.call("agent.create",
          Json.createObjectBuilder().add("agent", Json.createObjectBuilder().add("name", " "))).getString("message"));
      assertEquals("bad_request", ws.call("agent.create", Json.createObjectBuilder().add("agent",
          Json.createObjectBuilder().add("name", "x").add("model", "--dangerously-skip-permissions"))).getString(
              "code"));

      JsonObject missing = ws.call("agent.get", Json.createObjectBuilder().add("agentId",
          "0123456789abcdef0123456789abcdef"));
      assertEquals("not_found", missing.getString("code"));

      String agent = ItSupport.createAgent(ws, "target");
      JsonObject blank = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "   "));
      assertEquals("bad_request", blank.getString("code"));
      JsonObject tooLong = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "x".repeat(
          5001)));
      assertEquals("bad_request", tooLong.getString("code"));
      assertTrue(tooLong.getString("message").contains("MAX_MESSAGE_CHARS"));
      stillUsable(ws);
    }
  }

  @Test
  void aFrameOverTheLimitGetsTooLargeAndTheConnectionCloses() throws Exception {
    try (WsClient ws = platform.connect("carol")) {
      ws.sendRaw("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + "x".repeat(70_000) + "\"}");
      JsonObject tooLarge = error(ws);
      assertEquals("too_large", tooLarge.getString("code"));
      assertEquals(1009, ws.closeCode());
    }
    try (WsClient again = platform.connect("carol")) {
      stillUsable(again);
    }
  }

  @Test
  void aConnectionWithoutAUserIsRefused() throws Exception {
    try (WsClient ws = platform.connect(null)) {
      JsonObject refused = error(ws);
      assertEquals("unauthenticated", refused.getString("code"));
      assertEquals(1008, ws.closeCode());
    }
    assertEquals(401, platform.call("GET", "/api/agents", null, null).statusCode());
  }

  @Test
  void hostileFramesGetTypedErrorsWithoutAStackTraceInTheLog() throws Exception {
    long logFrom = platform.messagesLogMark();
    try (WsClient ws = platform.connect("carol")) {
      ws.sendRaw("{\"type\":\"ping\",\"id\":\"1\"}}");
      JsonObject trailing = error(ws);
      assertEquals("bad_request", trailing.getString("code"));
      assertTrue(trailing.getString("message").contains("after the end of the object"), trailing.toString());
      assertTrue(trailing.isNull("id"));

      ws.sendRaw("[".repeat(60_000));
      assertEquals("bad_request", error(ws).getString("code"));
      ws.sendRaw("{\"type\":\"ping\",\"id\":\"n\",\"x\":" + "{\"a\":".repeat(10_000));
      JsonObject deep = error(ws);
      assertEquals("bad_request", deep.getString("code"));
      assertTrue(deep.getString("message").contains("nested deeper than 32 levels"), deep.toString());

      String agent = ItSupport.createAgent(ws, "history");
      for (String seq : new String[] {"9223372036854775808", "99999999999999999999999999", "1e999999999"}) {
        ws.sendRaw("{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"" + agent + "\",\"afterSeq\":" + seq + "}");
        JsonObject beyond = error(ws);
        assertEquals("s", beyond.getString("id"));
        assertEquals("afterSeq: must be a whole number, 0 or more", beyond.getString("message"), seq);
      }

      ws.sendRaw("{\"type\":\"ping\",\"id\":\"\\ud800\"}");
      JsonObject lone = error(ws);
      assertEquals("bad_request", lone.getString("code"));
      assertTrue(lone.isNull("id"), "the id is not echoed mangled: " + lone);
      assertTrue(lone.getString("message").contains("unpaired UTF-16 surrogate"), lone.toString());
      stillUsable(ws);
    }
    try (RawWebSocket raw = RawWebSocket.open(platform.httpPort(), Map.of("X-User", "carol"))) {
      assertEquals(101, raw.status());
      assertTrue(raw.readText(WsClient.WAIT).contains("\"hello\""));
      raw.send(0x2, true, new byte[] {1, 2, 3});
      JsonObject binary = json(raw.readText(WsClient.WAIT));
      assertEquals("bad_request", binary.getString("code"));
      assertTrue(binary.getString("message").contains("frames must be text"), binary.toString());
      raw.sendText("{\"type\":\"ping\",\"id\":\"after-binary\"}");
      assertTrue(json(raw.readText(WsClient.WAIT)).getBoolean("pong"), "the connection stays open");
    }
    List<String> traces = ItSupport.stackTraces(platform.messagesLogSince(logFrom));
    assertTrue(traces.isEmpty(), "no stack trace in the server log: " + traces);
  }

  @Test
  void aTextFrameThatIsNotUtf8IsClosedWith1007() throws Exception {
    long logFrom = platform.messagesLogMark();
    for (int i = 0; i < 3; i++) {
      try (RawWebSocket raw = RawWebSocket.open(platform.httpPort(), Map.of("X-User", "carol"))) {
        raw.readText(WsClient.WAIT);
        // An unpaired surrogate as raw bytes (CESU-8) is not UTF-8: the container itself closes with 1007.
        raw.send(0x1, true, new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', '}'});
        RawWebSocket.Frame close = raw.read(WsClient.WAIT);
        while (close != null && close.opcode() != 0x8) {
          close = raw.read(WsClient.WAIT);
        }
        assertTrue(close != null, "a close frame");
        assertEquals(1007, close.closeCode(), close.text());
      }
    }
    // Liberty records the first such frame as an FFDC incident (one line; the stack goes to its own file) and
    // later ones only in that incident's count.
    String log = platform.messagesLogSince(logFrom);
    assertTrue(log.lines().noneMatch(l -> l.startsWith("\tat ")), log);
    assertTrue(log.lines().filter(l -> l.contains("FFDC1015I")).count() <= 1, log);
  }

  /** Sends a message in parts that pass the limit; {@code last}: also its final part. */
  private static void oversized(RawWebSocket raw, boolean last) throws Exception {
    byte[] part = "x".repeat(16_000).getBytes(StandardCharsets.UTF_8);
    raw.send(0x1, false, "{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"".getBytes(StandardCharsets.UTF_8));
    try {
      for (int k = 0; k < 8; k++) {
        raw.send(0x0, false, part);
      }
      if (last) {
        raw.send(0x0, true, "\"}".getBytes(StandardCharsets.UTF_8));
      }
    } catch (java.io.IOException e) {
      // The server may close before the client has sent every part.
    }
  }

  /** The too_large error, then the close frame's code (pings skipped). */
  private static int tooLargeThenClose(RawWebSocket raw, String what) throws Exception {
    assertEquals("too_large", json(raw.readText(WsClient.WAIT)).getString("code"), what);
    RawWebSocket.Frame close = raw.read(WsClient.WAIT);
    while (close != null && close.opcode() != 0x8) {
      close = raw.read(WsClient.WAIT);
    }
    assertTrue(close != null, what + ": a close frame, not just the end of the connection");
    return close.closeCode();
  }

  @Test
  void aFragmentedFrameOverTheLimitClosesWith1009EveryTime() throws Exception {
    // Four connections at a time: closing while the container still read the rest of such a message lost the close
    // frame about once in 80 tries under load.
    for (int round = 0; round < 5; round++) {
      List<RawWebSocket> sockets = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          RawWebSocket raw = RawWebSocket.open(platform.httpPort(), Map.of("X-User", "carol"));
          raw.readText(WsClient.WAIT);
          sockets.add(raw);
        }
        for (RawWebSocket raw : sockets) {
          oversized(raw, true);
        }
        for (int i = 0; i < sockets.size(); i++) {
          assertEquals(1009, tooLargeThenClose(sockets.get(i), "round " + round + ", socket " + i));
        }
      } finally {
        for (RawWebSocket raw : sockets) {
          raw.close();
        }
      }
    }
    // A client that never sends the last part is closed all the same, after a grace period.
    try (RawWebSocket raw = RawWebSocket.open(platform.httpPort(), Map.of("X-User", "carol"))) {
      raw.readText(WsClient.WAIT);
      oversized(raw, false);
      assertEquals(1009, tooLargeThenClose(raw, "without its last part"));
    }
  }

  @Test
  void restErrorsAreTypedJsonEvenForPathsTheContainerRefuses() throws Exception {
    long logFrom = platform.messagesLogMark();
    for (String path : new String[] {"/api/agents/..%2F..%2Fetc%2Fpasswd", "/api/agents/%2e%2e%2fx",
        "/api/agents/a%5cb", "/api/agents/a%23b", "/api/nothing", "/api/agents/0123456789abcdef0123456789abcdef/x"}) {
      HttpResponse<String> r = platform.call("GET", path, "carol", null);
      assertTrue(r.statusCode() == 400 || r.statusCode() == 404, path + ": " + r.statusCode());
      assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), path);
      JsonObject body = json(r.body());
      assertTrue(body.containsKey("code") && body.containsKey("message"), path + ": " + r.body());
    }
    for (String body : new String[] {"[".repeat(50_000), "{\"name\":" + "[".repeat(50_000),
        "{\"name\":\"a\"}}", "{\"name\":\"\\udc00\"}", "{\"name\":\"a\",\"model\":1e999999999}"}) {
      HttpResponse<String> r = platform.call("POST", "/api/agents", "carol", body);
      assertEquals(400, r.statusCode(), body.substring(0, Math.min(40, body.length())) + ": " + r.body());
      assertEquals("bad_request", json(r.body()).getString("code"));
    }
    HttpResponse<String> page = platform.call("GET", "/api/agents/0123456789abcdef0123456789abcdef/events"
        + "?after=99999999999999999999", "carol", null);
    assertEquals(400, page.statusCode(), page.body());
    assertEquals("bad_request", json(page.body()).getString("code"));
    List<String> traces = ItSupport.stackTraces(platform.messagesLogSince(logFrom));
    assertTrue(traces.isEmpty(), "no stack trace in the server log: " + traces);
  }

  private static JsonObject json(String text) {
    return Json.createReader(new StringReader(text)).readObject();
  }
}
