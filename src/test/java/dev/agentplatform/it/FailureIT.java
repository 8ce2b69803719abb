package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Failures of the model endpoint and of the CLI become failed turns; the agent stays usable and nothing leaks. */
class FailureIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  @Test
  void aFailingModelEndpointFailsTheTurnAndTheAgentRecovers() throws Exception {
    try (WsClient ws = platform.connect("dave")) {
      String agent = createAgent(ws, "unlucky");
      send(ws, agent, "#fail 400");
      List<JsonObject> events = ws.eventsUntil(agent, "turn_failed");
      JsonObject failed = events.get(events.size() - 1);
      assertTrue(failed.getString("reason").contains("400"), failed.toString());
      assertEquals("running", ItSupport.find(events, "agent_status").getString("status"));
      JsonObject status = ws.event(agent, "agent_status");
      assertEquals("error", status.getString("status"));
      assertEquals(failed.getString("reason"), status.getString("detail"));
      assertEquals("Echo: better now?", text(turn(ws, agent, "better now?")));
    }
  }

  @Test
  void retriesOfAFailingModelEndpointAreShownWhileTheTurnWaits() throws Exception {
    try (WsClient ws = platform.connect("dave")) {
      String agent = createAgent(ws, "patient");
      send(ws, agent, "#fail 500");
      JsonObject retry = ws.next(f -> "event".equals(WsClient.type(f))
          && "agent_status".equals(f.getJsonObject("event").getString("kind"))
          && f.getJsonObject("event").getString("detail").contains("retry 1 of")).getJsonObject("event");
      assertEquals("running", retry.getString("status"));
      assertTrue(retry.getString("detail").startsWith("the model API is not answering (HTTP 500"), retry.toString());
      ws.call("interrupt", jakarta.json.Json.createObjectBuilder().add("agentId", agent));
      ws.event(agent, "turn_interrupted");
    }
  }

  @Test
  void aCrashingCliFailsTheTurnLeavesNoProcessAndTheConversationGoesOn() throws Exception {
    try (WsClient ws = platform.connect("dave")) {
      String agent = createAgent(ws, "crasher", "Bash");
      assertEquals("Echo: remember the number 42", text(turn(ws, agent, "remember the number 42")));

      // The agent's own Bash tool kills the CLI that runs it: a real crash in the middle of a turn.
      send(ws, agent, "#bash kill -9 $PPID");
      List<JsonObject> events = ws.eventsUntil(agent, "turn_failed");
      JsonObject failed = events.get(events.size() - 1);
      assertTrue(failed.getString("reason").contains("exited unexpectedly (killed by signal 9)"), failed.toString());
      ConversationIT.platform = platform;
      ConversationIT.waitUntilNoProcesses(agent);

      platform.model.clearRequests();
      assertEquals("Echo: what number?", text(turn(ws, agent, "what number?")));
      String history = platform.model.requests().get(0).getJsonArray("messages").toString();
      assertTrue(history.contains("remember the number 42"), "the new CLI process resumed the session: " + history);
    }
  }

  @Test
  void gitInTheWorkspaceDoesNotReachTheRepositoryAboveIt() throws Exception {
    // The test data directory sits inside the project's checkout, as DATA_DIR does for liberty:run.
    try (WsClient ws = platform.connect("dave")) {
      String agent = createAgent(ws, "gitless", "Bash");
      List<JsonObject> events = turn(ws, agent, "#bash git rev-parse --show-toplevel");
      JsonObject result = ItSupport.find(events, "tool_result");
      assertTrue(result.getString("output").contains("not a git repository"), result.toString());
    }
  }

  @Test
  void theApiKeyNeverShowsInEventsOrLogs() throws Exception {
    try (WsClient ws = platform.connect("dave")) {
      String agent = createAgent(ws, "discreet", "Bash");
      List<JsonObject> events = turn(ws, agent, "#bash env");
      JsonObject env = ItSupport.find(events, "tool_result");
      assertTrue(env.getString("output").contains("ANTHROPIC_API_KEY=[redacted]"), env.toString());
      assertFalse(events.toString().contains(Platform.SECRET_API_KEY), "no event holds the API key");
      assertFalse(ConversationITHistory.of(platform, "dave", agent).toString().contains(Platform.SECRET_API_KEY));
    }
    assertFalse(platform.serverLog().contains(Platform.SECRET_API_KEY), "the server log holds no API key");
  }
}
