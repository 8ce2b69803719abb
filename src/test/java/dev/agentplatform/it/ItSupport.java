package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.util.List;

/** Small steps the integration tests share: create an agent, run a turn to its end. */
final class ItSupport {

  private ItSupport() {
  }

  static String createAgent(WsClient ws, String name, String... tools) throws InterruptedException {
    JsonArrayBuilder list = Json.createArrayBuilder();
    for (String t : tools) {
      list.add(t);
    }
    JsonObject reply = ws.call("agent.create", Json.createObjectBuilder()
        .add("agent", Json.createObjectBuilder().add("name", name).add("instructions", "Answer briefly.")
            .add("allowedTools", list)));
    assertEquals("reply", reply.getString("type"), reply.toString());
    return reply.getJsonObject("agent").getString("id");
  }

  static JsonObject send(WsClient ws, String agentId, String text) throws InterruptedException {
    JsonObject reply = ws.call("send", Json.createObjectBuilder().add("agentId", agentId).add("text", text));
    assertEquals("reply", reply.getString("type"), reply.toString());
    return reply;
  }

  /**
   * Sends a message and returns the turn's events up to and including {@code turn_completed}, after waiting for the
   * agent's return to a resting status. Only this turn's events count: late ones of an earlier (interrupted) turn,
   * still held by the client, are not mixed in.
   */
  static List<JsonObject> turn(WsClient ws, String agentId, String text) throws InterruptedException {
    String turnId = send(ws, agentId, text).getString("turnId");
    List<JsonObject> events = new java.util.ArrayList<>();
    while (events.isEmpty() || !"turn_completed".equals(events.get(events.size() - 1).getString("kind"))) {
      events.add(ws.next(f -> ofTurn(f, agentId, turnId)).getJsonObject("event"));
    }
    ws.next(f -> ofTurn(f, agentId, turnId) && "agent_status".equals(f.getJsonObject("event").getString("kind")));
    return events;
  }

  private static boolean ofTurn(JsonObject frame, String agentId, String turnId) {
    if (!"event".equals(WsClient.type(frame))) {
      return false;
    }
    JsonObject e = frame.getJsonObject("event");
    return agentId.equals(e.getString("agentId")) && turnId.equals(e.getString("turnId", null));
  }

  static String text(List<JsonObject> events) {
    StringBuilder b = new StringBuilder();
    events.stream().filter(e -> "assistant_text".equals(e.getString("kind"))).forEach(e -> b.append(e.getString(
        "text")));
    return b.toString();
  }

  /** The lines of a piece of the server's log that are stack-trace frames or FFDC incidents. */
  static List<String> stackTraces(String log) {
    return log.lines().filter(l -> l.startsWith("\tat ") || l.contains("FFDC1015I") || l.startsWith("Caused by:"))
        .toList();
  }

  static JsonObject find(List<JsonObject> events, String kind) {
    return events.stream().filter(e -> kind.equals(e.getString("kind"))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " in " + events));
  }
}
