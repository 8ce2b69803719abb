package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.find;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A conversation through the WebSocket, the real Claude Code CLI and the Firestore emulator; only the model's
 * words come from the scripted model server.
 */
class ConversationIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  @Test
  void aTurnStreamsTextAndCompletesWithUsageAndCost() throws Exception {
    try (WsClient ws = platform.connect("alice")) {
      JsonObject hello = ws.next(f -> "hello".equals(WsClient.type(f)));
      assertEquals("alice", hello.getString("userId"));
      String agent = createAgent(ws, "streamer");
      JsonObject reply = send(ws, agent, "#slow 3 400");
      List<JsonObject> events = ws.eventsUntil(agent, "turn_completed");

      assertEquals("user_message", events.get(0).getString("kind"));
      assertEquals(reply.getJsonNumber("seq").longValue(), events.get(0).getJsonNumber("seq").longValue());
      List<JsonObject> texts = events.stream().filter(e -> "assistant_text".equals(e.getString("kind"))).toList();
      assertEquals("chunk 1. chunk 2. chunk 3. ", text(events));
      Instant firstText = Instant.parse(texts.get(0).getString("ts"));
      JsonObject done = find(events, "turn_completed");
      assertTrue(Duration.between(firstText, Instant.parse(done.getString("ts"))).toMillis() >= 600,
          "the first text was stored before the rest of the reply was generated");
      assertTrue(done.getJsonObject("usage").getInt("inputTokens") > 0);
      assertTrue(done.getJsonNumber("costUsd").doubleValue() > 0);
      assertEquals("chunk 1. chunk 2. chunk 3. ", done.getString("result"));
      long previous = 0;
      for (JsonObject e : events) {
        long seq = e.getJsonNumber("seq").longValue();
        assertTrue(seq > previous, "seq only grows");
        previous = seq;
        assertEquals(reply.getString("turnId"), e.getString("turnId"));
      }
      assertEquals("idle", ws.event(agent, "agent_status").getString("status"));
    }
  }

  @Test
  void aWriteToolCallCreatesTheFileInTheAgentsWorkspace() throws Exception {
    try (WsClient ws = platform.connect("alice")) {
      String agent = createAgent(ws, "writer", "Write");
      List<JsonObject> events = turn(ws, agent, "#write notes.txt Hello from the agent");

      JsonObject call = find(events, "tool_call");
      assertEquals("Write", call.getString("name"));
      Path file = platform.workspace(agent).resolve("notes.txt");
      assertEquals(file.toString(), call.getJsonObject("input").getString("file_path"));
      JsonObject result = find(events, "tool_result");
      assertEquals(call.getString("toolUseId"), result.getString("toolUseId"));
      assertFalse(result.getBoolean("isError"));
      assertEquals("Hello from the agent", Files.readString(file));
      assertEquals("Wrote the file.", text(events));
      assertTrue(events.indexOf(call) < events.indexOf(result));
    }
  }

  @Test
  void aSecondMessageContinuesTheConversation() throws Exception {
    try (WsClient ws = platform.connect("alice")) {
      String agent = createAgent(ws, "memory");
      assertEquals("Echo: the password is swordfish", text(turn(ws, agent, "the password is swordfish")));
      platform.model.clearRequests();
      assertEquals("Echo: what was it?", text(turn(ws, agent, "what was it?")));

      JsonObject request = platform.model.requests().get(platform.model.requests().size() - 1);
      String history = request.getJsonArray("messages").toString();
      assertTrue(history.contains("the password is swordfish"), "the model sees the first turn: " + history);
      assertTrue(history.contains("Echo: the password is swordfish"));
    }
  }

  @Test
  void subscribeWithAfterSeqReplaysExactlyTheMissingEventsThenLiveOnes() throws Exception {
    try (WsClient writer = platform.connect("alice")) {
      String agent = createAgent(writer, "replayed");
      turn(writer, agent, "#say one two three");
      List<JsonObject> stored = history(agent);
      assertTrue(stored.size() >= 5, stored.toString());
      long cut = stored.get(1).getJsonNumber("seq").longValue();

      try (WsClient reader = platform.connect("alice")) {
        JsonObject ack = reader.call("subscribe", Json.createObjectBuilder().add("agentId", agent).add("afterSeq",
            cut));
        assertEquals("reply", ack.getString("type"));
        List<JsonObject> replayed = reader.eventsThrough(agent, last(stored));
        assertEquals(stored.subList(2, stored.size()), replayed, "exactly the events after " + cut);

        turn(writer, agent, "#say four");
        List<JsonObject> live = reader.eventsUntil(agent, "turn_completed");
        assertEquals(stored.get(stored.size() - 1).getJsonNumber("seq").longValue() + 1,
            live.get(0).getJsonNumber("seq").longValue(), "no gap between replay and live");
        assertEquals(history(agent).subList(stored.size(), stored.size() + live.size()), live);
      }
    }
  }

  @Test
  void interruptingASlowTurnRecordsItAndTheAgentTakesTheNextMessage() throws Exception {
    try (WsClient ws = platform.connect("alice")) {
      String agent = createAgent(ws, "slowpoke");
      send(ws, agent, "#slow 100 200");
      ws.event(agent, "assistant_text");
      assertFalse(platform.processesIn(agent).isEmpty(), "the CLI runs in the agent's workspace");

      JsonObject busy = ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "hello?"));
      assertEquals("busy", busy.getString("code"));

      JsonObject reply = ws.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
      assertTrue(reply.getBoolean("interrupted"));
      JsonObject interrupted = ws.event(agent, "turn_interrupted");
      assertEquals("interrupted by the user", interrupted.getString("reason"));
      JsonObject status = ws.next(f -> "event".equals(WsClient.type(f))
          && "agent_status".equals(f.getJsonObject("event").getString("kind"))
          && f.getJsonObject("event").getJsonNumber("seq").longValue() > interrupted.getJsonNumber("seq").longValue())
          .getJsonObject("event");
      assertEquals("idle", status.getString("status"));
      waitUntilNoProcesses(agent);

      assertEquals("Echo: are you there?", text(turn(ws, agent, "are you there?")));
    }
  }

  static void waitUntilNoProcesses(String agent) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!platform.processesIn(agent).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(List.of(), platform.processesIn(agent), "no process is left in the workspace");
  }

  static long last(List<JsonObject> events) {
    return events.get(events.size() - 1).getJsonNumber("seq").longValue();
  }

  static List<JsonObject> history(String agent) throws Exception {
    return ConversationITHistory.of(platform, "alice", agent);
  }
}
