package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Restarts the server twice: once without a CLI (it still starts, readiness says why, a message is unavailable),
 * then normally: agents, history and the CLI session are all still there.
 */
class RestartIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  @Test
  void agentsHistoryAndTheConversationSurviveRestarts() throws Exception {
    String agent;
    List<JsonObject> before;
    try (WsClient ws = platform.connect("erin")) {
      agent = createAgent(ws, "durable");
      turn(ws, agent, "my favourite colour is teal");
      before = ConversationITHistory.of(platform, "erin", agent);
    }

    platform.restart(Map.of("CLAUDE_CLI_PATH", "/nonexistent/claude"));
    HttpResponse<String> ready = platform.call("GET", "/health/ready", null, null);
    assertEquals(503, ready.statusCode());
    assertTrue(ready.body().contains("CLAUDE_CLI_PATH"), ready.body());
    try (WsClient ws = platform.connect("erin")) {
      JsonObject refused = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "hello?"));
      assertEquals("unavailable", refused.getString("code"));
      assertTrue(refused.getString("message").contains("CLAUDE_CLI_PATH"), refused.toString());
      assertEquals(before, ConversationITHistory.of(platform, "erin", agent),
          "nothing was stored for a refused message");
    }

    // Short timeout and idle time for this phase, to see both at work.
    platform.restart(Map.of("TURN_TIMEOUT_SECONDS", "6", "CLI_IDLE_SECONDS", "2"));
    assertEquals(200, platform.call("GET", "/health/ready", null, null).statusCode());
    try (WsClient ws = platform.connect("erin")) {
      assertTrue(ws.call("agent.list").getJsonArray("agents").toString().contains(agent));
      JsonObject ack = ws.call("subscribe", Json.createObjectBuilder().add("agentId", agent).add("afterSeq", 0));
      assertEquals("reply", ack.getString("type"));
      List<JsonObject> replayed = ws.eventsThrough(agent, ConversationIT.last(before));
      assertEquals(before, replayed, "the whole history replays after the restart");

      platform.model.clearRequests();
      assertEquals("Echo: which colour?", text(turn(ws, agent, "which colour?")));
      String history = platform.model.requests().get(0).getJsonArray("messages").toString();
      assertTrue(history.contains("my favourite colour is teal"), "the conversation continued: " + history);

      // Idle: the warm CLI is stopped after CLI_IDLE_SECONDS, and the next message resumes the session.
      ConversationIT.platform = platform;
      ConversationIT.waitUntilNoProcesses(agent);
      platform.model.clearRequests();
      assertEquals("Echo: once more?", text(turn(ws, agent, "once more?")));
      assertTrue(platform.model.requests().get(0).getJsonArray("messages").toString().contains("teal"));

      // Timeout: a turn that outlives TURN_TIMEOUT_SECONDS is stopped, whole tree, and recorded as failed.
      ItSupport.send(ws, agent, "#slow 100 200");
      List<JsonObject> events = ws.eventsUntil(agent, "turn_failed");
      assertEquals("the turn timed out after 6 s (TURN_TIMEOUT_SECONDS)", events.get(events.size() - 1).getString(
          "reason"));
      ConversationIT.waitUntilNoProcesses(agent);
    }

    HttpResponse<String> metrics = platform.call("GET", "/metrics?scope=application", null, null);
    assertEquals(200, metrics.statusCode());
    String m = metrics.body();
    assertTrue(m.matches("(?s).*turns_total\\{[^}]*outcome=\"completed\"[^}]*} [1-9].*"), m);
    assertTrue(m.matches("(?s).*turns_total\\{[^}]*outcome=\"failed\"[^}]*} [1-9].*"), m);
    assertTrue(m.contains("tokens_total") && m.contains("cost_usd") && m.contains("turn_duration")
        && m.contains("turn_first_event") && m.contains("sessions_open"), m);
  }
}
