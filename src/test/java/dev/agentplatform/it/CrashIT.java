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
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Kills the server ({@code kill -9}) in the middle of a turn and starts it again, with each store: the turn it
 * left open gets exactly one end event, the agent is not left running, and the next turn is clean.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  // Firestore first, on the server as the tests start it: each Liberty start costs seconds.
  @Test
  @Order(1)
  void aTurnCutByACrashIsClosedAtStartUpWithFirestore() throws Exception {
    crashMidTurnAndRestart(Map.of(), "heidi");
  }

  @Test
  @Order(2)
  void aTurnCutByACrashIsClosedAtStartUpWithTheEmbeddedStore() throws Exception {
    platform.use(Map.of("STORE", "embedded"));
    crashMidTurnAndRestart(Map.of("STORE", "embedded"), "ivan");
  }

  private void crashMidTurnAndRestart(Map<String, String> env, String user) throws Exception {
    String agent;
    String cut;
    List<JsonObject> seen;
    try (WsClient ws = platform.connect(user)) {
      agent = createAgent(ws, "crashed");
      cut = send(ws, agent, "#slow 100 200").getString("turnId");
      seen = new ArrayList<>();
      // Until the text streams: the turn runs, and the agent is stored as running.
      while (seen.isEmpty() || !"assistant_text".equals(seen.get(seen.size() - 1).getString("kind"))) {
        seen.add(ws.next(f -> "event".equals(WsClient.type(f))).getJsonObject("event"));
      }
    }
    assertFalse(platform.processesIn(agent).isEmpty(), "the CLI runs the turn");
    platform.killServer();
    platform.start(env);

    List<JsonObject> history = TurnRacesIT.wholeHistory(platform, user, agent);
    assertEquals(seen, history.subList(0, seen.size()), "every event a client saw was kept");
    List<JsonObject> ends = history.stream().filter(e -> cut.equals(e.getString("turnId"))
        && TurnRacesIT.END_KINDS.contains(e.getString("kind"))).toList();
    assertEquals(1, ends.size(), "one end event for the cut turn: " + history);
    assertEquals("turn_failed", ends.get(0).getString("kind"));
    assertEquals("the server stopped during this turn", ends.get(0).getString("reason"));
    JsonObject failed = ends.get(0);
    JsonObject reset = history.get(history.indexOf(failed) + 1);
    assertEquals("agent_status", reset.getString("kind"), history.toString());
    assertEquals("error", reset.getString("status"));
    assertEquals(cut, reset.getString("turnId"));
    JsonObject shown = agentJson(user, agent);
    assertEquals("error", shown.getString("status"), shown.toString());
    assertEquals(List.of(), platform.processesIn(agent), "no CLI of the killed server is left");

    try (WsClient ws = platform.connect(user)) {
      String next = send(ws, agent, "are you back?").getString("turnId");
      List<JsonObject> events = TurnRacesIT.untilEnd(ws, agent, next);
      assertEquals("Echo: are you back?", text(events));
      // The agent's status goes back to idle after the turn's end event: wait for it before reading the history.
      ws.next(f -> "event".equals(WsClient.type(f)) && next.equals(f.getJsonObject("event").getString("turnId"))
          && "agent_status".equals(f.getJsonObject("event").getString("kind")));
    }
    List<JsonObject> full = TurnRacesIT.wholeHistory(platform, user, agent);
    List<JsonObject> after = full.subList(history.size(), full.size());
    List<String> kinds = after.stream().filter(e -> !"assistant_text".equals(e.getString("kind")))
        .map(e -> e.getString("kind") + (e.containsKey("status") ? ":" + e.getString("status") : "")).toList();
    assertEquals(List.of("user_message", "agent_status:running", "turn_completed", "agent_status:idle"),
        kinds.subList(0, Math.min(4, kinds.size())), "the next turn is clean: " + after);
    assertTrue(after.stream().noneMatch(e -> cut.equals(e.getString("turnId"))), "nothing more of the cut turn");
  }

  private static JsonObject agentJson(String user, String agent) throws Exception {
    HttpResponse<String> r = platform.call("GET", "/api/agents/" + agent, user, null);
    assertEquals(200, r.statusCode(), r.body());
    JsonObject o = Json.createReader(new StringReader(r.body())).readObject();
    return o.containsKey("agent") ? o.getJsonObject("agent") : o;
  }
}
