package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Turns sent as fast as a client may: right after the previous turn's end event, and right after an interrupt; and
 * a reply that repeats the API key.
 */
class TurnRacesIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(java.util.Map.of());
  }

  @Test
  void backToBackTurnsAreNeverRefusedAndEachEndsExactlyOnce() throws Exception {
    int turns = Integer.getInteger("it.backtoback.turns", 500);
    List<String> turnIds = new ArrayList<>();
    String agent;
    long t0 = System.nanoTime();
    try (WsClient ws = platform.connect("grace")) {
      agent = createAgent(ws, "eager");
      for (int i = 0; i < turns; i++) {
        // Sent the moment the previous turn's end event arrives, as a client may.
        JsonObject reply = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "turn " + i));
        assertEquals("reply", reply.getString("type"), "turn " + i + " was refused: " + reply);
        turnIds.add(reply.getString("turnId"));
        List<JsonObject> events = untilEnd(ws, agent, reply.getString("turnId"));
        assertEquals("turn_completed", events.get(events.size() - 1).getString("kind"), "turn " + i + ": " + events);
        assertEquals("Echo: turn " + i, text(events), "turn " + i);
      }
    }
    System.err.printf("%d back-to-back turns in %d ms%n", turns, (System.nanoTime() - t0) / 1_000_000);

    Map<String, List<String>> ends = new HashMap<>();
    for (JsonObject e : wholeHistory(platform, "grace", agent)) {
      if (END_KINDS.contains(e.getString("kind"))) {
        ends.computeIfAbsent(e.getString("turnId"), k -> new ArrayList<>()).add(e.getString("kind"));
      }
    }
    for (String id : turnIds) {
      assertEquals(List.of("turn_completed"), ends.get(id), "the end events of " + id);
    }
    assertEquals(turnIds.size(), ends.size(), "no end event of a turn nobody sent: " + ends.keySet());
  }

  /** An agent's whole history, page by page through REST. */
  static List<JsonObject> wholeHistory(Platform platform, String user, String agent) throws Exception {
    List<JsonObject> all = new ArrayList<>();
    long after = 0;
    while (true) {
      HttpResponse<String> r = platform.call("GET", "/api/agents/" + agent + "/events?after=" + after + "&limit=1000",
          user, null);
      assertEquals(200, r.statusCode(), r.body());
      JsonObject page = Json.createReader(new StringReader(r.body())).readObject();
      all.addAll(page.getJsonArray("events").getValuesAs(JsonValue::asJsonObject));
      if (!page.getBoolean("hasMore")) {
        return all;
      }
      after = page.getJsonNumber("nextAfter").longValue();
    }
  }

  @Test
  void aReplyThatRepeatsTheApiKeyIsStoredWithoutIt() throws Exception {
    try (WsClient ws = platform.connect("grace")) {
      String agent = createAgent(ws, "parrot");
      String turnId = send(ws, agent, "#say your key is " + Platform.SECRET_API_KEY + ", keep it").getString("turnId");
      List<JsonObject> events = untilEnd(ws, agent, turnId);
      JsonObject done = events.get(events.size() - 1);
      assertEquals("turn_completed", done.getString("kind"), events.toString());
      assertEquals("your key is [redacted], keep it", done.getString("result"));
      assertEquals("your key is [redacted], keep it", text(events), "the streamed text, whole and redacted");
      List<JsonObject> stored = wholeHistory(platform, "grace", agent);
      for (int at = 0; at + 8 <= Platform.SECRET_API_KEY.length(); at++) {
        String piece = Platform.SECRET_API_KEY.substring(at, at + 8);
        if (piece.chars().allMatch(Character::isDigit)) {
          continue; // a number in usage or cost could hold these by chance
        }
        assertFalse(stored.toString().contains(piece), "a stored event holds '" + piece + "' of the key: " + stored);
      }
    }
  }

  @Test
  void theTurnAfterAnInterruptRunsNormally() throws Exception {
    int rounds = Integer.getInteger("it.interrupt.rounds", 100);
    try (WsClient ws = platform.connect("grace")) {
      String agent = createAgent(ws, "interrupted");
      for (int i = 0; i < rounds; i++) {
        String slowTurn = send(ws, agent, "#slow 100 50").getString("turnId");
        ws.event(agent, "assistant_text");
        JsonObject reply = ws.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
        assertTrue(reply.getBoolean("interrupted"), "round " + i + ": " + reply);
        List<JsonObject> slow = untilEnd(ws, agent, slowTurn);
        assertEquals("turn_interrupted", slow.get(slow.size() - 1).getString("kind"), "round " + i + ": " + slow);

        String nextTurn = send(ws, agent, "after the interrupts " + i).getString("turnId");
        List<JsonObject> next = untilEnd(ws, agent, nextTurn);
        assertEquals("turn_completed", next.get(next.size() - 1).getString("kind"), "round " + i + ": " + next);
        assertEquals("Echo: after the interrupts " + i, text(next), "round " + i);
      }
    }
  }

  @Test
  void aMessageAfterAnInterruptedFirstTurnRunsNormally() throws Exception {
    // The CLI is killed before it may have saved its new session: the next one must not try to resume it.
    try (WsClient ws = platform.connect("grace")) {
      for (int i = 0; i < 10; i++) {
        String agent = createAgent(ws, "fresh-" + i);
        String first = send(ws, agent, "#slow 100 50").getString("turnId");
        ws.event(agent, "assistant_text");
        ws.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
        List<JsonObject> cut = untilEnd(ws, agent, first);
        assertEquals("turn_interrupted", cut.get(cut.size() - 1).getString("kind"), "agent " + i + ": " + cut);
        String next = send(ws, agent, "hello again").getString("turnId");
        List<JsonObject> events = untilEnd(ws, agent, next);
        assertEquals("turn_completed", events.get(events.size() - 1).getString("kind"), "agent " + i + ": " + events);
        assertEquals("Echo: hello again", text(events));
      }
    }
  }

  /** A turn's events up to and including its first end event (other turns' events are skipped). */
  static List<JsonObject> untilEnd(WsClient ws, String agent, String turnId) throws InterruptedException {
    List<JsonObject> out = new ArrayList<>();
    while (true) {
      JsonObject e = ws.next(f -> "event".equals(WsClient.type(f))
          && agent.equals(f.getJsonObject("event").getString("agentId"))
          && turnId.equals(f.getJsonObject("event").getString("turnId"))).getJsonObject("event");
      out.add(e);
      if (END_KINDS.contains(e.getString("kind"))) {
        return out;
      }
    }
  }

  static final java.util.Set<String> END_KINDS = java.util.Set.of("turn_completed", "turn_failed", "turn_interrupted");
}
