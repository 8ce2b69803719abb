package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every kind of bad frame gets its typed error, and the connection stays usable (except for an oversized frame). */
class ProtocolErrorsIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.get();
    platform.use(Map.of());
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

      assertEquals("agentId: required", ws.call("send", Json.createObjectBuilder().add("text", "x")).getString("message"));
      assertEquals("afterSeq: must be a whole number, 0 or more", ws.call("subscribe",
          Json.createObjectBuilder().add("agentId", "a").add("afterSeq", "soon")).getString("message"));
      assertEquals("name: required, 1 to 100 characters", ws.call("agent.create",
          Json.createObjectBuilder().add("agent", Json.createObjectBuilder().add("name", " "))).getString("message"));
      assertEquals("bad_request", ws.call("agent.create", Json.createObjectBuilder().add("agent",
          Json.createObjectBuilder().add("name", "x").add("model", "--dangerously-skip-permissions"))).getString("code"));

      JsonObject missing = ws.call("agent.get", Json.createObjectBuilder().add("agentId", "0123456789abcdef0123456789abcdef"));
      assertEquals("not_found", missing.getString("code"));

      String agent = ItSupport.createAgent(ws, "target");
      JsonObject blank = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "   "));
      assertEquals("bad_request", blank.getString("code"));
      JsonObject tooLong = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "x".repeat(5001)));
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
}
