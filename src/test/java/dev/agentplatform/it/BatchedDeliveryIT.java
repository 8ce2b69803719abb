package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched delivery (the {@code options} request): a client that asked gets a fast stream whole and in order, in
 * {@code events} messages where events queued up; a client on the same agent that did not ask gets the same events,
 * each in its own {@code event} frame, as before batches existed.
 */
class BatchedDeliveryIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  private static void subscribe(WsClient ws, String agent, long afterSeq) throws InterruptedException {
    JsonObject reply = ws.call("subscribe", Json.createObjectBuilder().add("agentId", agent).add("afterSeq",
        afterSeq));
    assertEquals("reply", WsClient.type(reply), reply.toString());
  }

  private static void assertWholeAndInOrder(List<JsonObject> events, String what) {
    for (int i = 1; i < events.size(); i++) {
      assertEquals(events.get(i - 1).getJsonNumber("seq").longValue() + 1, events.get(i).getJsonNumber("seq")
          .longValue(), what + ": no gap, no duplicate, in order");
    }
    StringBuilder expected = new StringBuilder();
    for (int i = 1; i <= 300; i++) {
      expected.append("chunk ").append(i).append(". ");
    }
    assertEquals(expected.toString(), text(events), what + ": the whole reply");
  }

  @Test
  void aFastStreamArrivesWholeInBatchesForTheClientThatAskedAndFrameByFrameForTheOther() throws Exception {
    try (WsClient batched = platform.connect("dora"); WsClient plain = platform.connectUnbatched("dora")) {
      String agent = createAgent(batched, "fast");
      subscribe(plain, agent, 0);
      subscribe(batched, agent, 0);
      send(batched, agent, "#slow 300 1");
      List<JsonObject> live = batched.eventsUntil(agent, "turn_completed");
      List<JsonObject> unbatched = plain.eventsUntil(agent, "turn_completed");
      assertWholeAndInOrder(live, "live, batched");
      assertEquals(live, unbatched, "the same events, with the same content, either way");
      assertEquals(List.of(), plain.batchSizes(), "a client that did not ask gets only event frames");
      List<Integer> liveBatches = batched.batchSizes();

      // A replay sends the history in one burst: there, events certainly queue up behind the writer.
      batched.event(agent, "agent_status");
      subscribe(batched, agent, 0);
      List<JsonObject> replayed = batched.eventsUntil(agent, "turn_completed");
      assertEquals(live, replayed.subList(replayed.size() - live.size(), replayed.size()), "the replay, batched");
      List<Integer> all = batched.batchSizes();
      assertTrue(all.stream().anyMatch(n -> n > 1), "at least one events message with several events: " + all);
      assertTrue(all.stream().allMatch(n -> n > 1 && n <= 100), "a batch holds 2 to 100 events: " + all);
      System.out.println("events per events message: live " + liveBatches + ", with the replay " + all);
    }
  }

  @Test
  void badOptionsGetBadRequestAndTheConnectionStaysUsable() throws Exception {
    try (WsClient ws = platform.connectUnbatched("dora")) {
      for (String value : new String[] {"\"yes\"", "1", "null", "[]", "{}"}) {
        ws.sendRaw("{\"type\":\"options\",\"id\":\"o1\",\"batch\":" + value + "}");
        JsonObject error = ws.next(f -> "o1".equals(f.getString("id", null)));
        assertEquals("error", WsClient.type(error), value);
        assertEquals("bad_request", error.getString("code"), value);
        assertTrue(error.getString("message").startsWith("batch: "), error.toString());
      }
      JsonObject missing = ws.call("options");
      assertEquals("batch: required, true or false", missing.getString("message"));
      assertEquals(false, ws.call("options", Json.createObjectBuilder().add("batch", false)).getBoolean("batch"));
      assertTrue(ws.call("ping").getBoolean("pong"), "the connection still answers");
    }
  }
}
