package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.Replica;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two servers on one Firestore emulator, one data directory and one workspace root: A (the platform's server,
 * replica {@code it-a}) and B (replica {@code it-b}). An agent runs on one of them at a time (its lease), commands
 * reach the one that runs it, and B takes an agent over from a killed A once A's lease expired.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasIT {

  static Platform a;
  static Replica b;

  @BeforeAll
  static void start() throws Exception {
    a = Platform.with(Map.of("REPLICATION", "leases"));
    b = Replica.start(a, "serverB", "it-b", Map.of("REPLICATION", "leases"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (b != null) {
      b.stop();
    }
  }

  @Test
  @Order(1)
  void twoSendsAtOnceOnTwoServersRunOneTurnAndTheOtherIsBusy() throws Exception {
    try (WsClient onA = a.connect("rita"); WsClient onB = b.connect("rita")) {
      String agent = createAgent(onA, "contested");
      for (int round = 0; round < 3; round++) {
        CompletableFuture<JsonObject> fromA = CompletableFuture.supplyAsync(() -> call(onA, agent, "#slow 10 50"));
        CompletableFuture<JsonObject> fromB = CompletableFuture.supplyAsync(() -> call(onB, agent, "#slow 10 50"));
        List<JsonObject> replies = List.of(fromA.get(), fromB.get());
        List<JsonObject> ran = replies.stream().filter(r -> "reply".equals(r.getString("type"))).toList();
        List<JsonObject> refused = replies.stream().filter(r -> "error".equals(r.getString("type"))).toList();
        assertEquals(1, ran.size(), "exactly one send runs: " + replies);
        assertEquals(1, refused.size(), replies.toString());
        assertEquals("busy", refused.get(0).getString("code"), replies.toString());
        WsClient winner = ran.get(0) == replies.get(0) ? onA : onB;
        List<JsonObject> events = TurnRacesIT.untilEnd(winner, agent, ran.get(0).getString("turnId"));
        assertEquals("turn_completed", events.get(events.size() - 1).getString("kind"), events.toString());
        // The agent is free once its status is back to idle: the lease is let go after the turn is recorded.
        winner.next(f -> "event".equals(WsClient.type(f)) && ran.get(0).getString("turnId").equals(f.getJsonObject(
            "event").getString("turnId")) && "agent_status".equals(f.getJsonObject("event").getString("kind")));
      }
      assertNoGapNoDuplicate(TurnRacesIT.wholeHistory(a, "rita", agent));
    }
  }

  @Test
  @Order(2)
  void anInterruptSentToBStopsTheTurnRunningOnA() throws Exception {
    try (WsClient onA = a.connect("sam"); WsClient onB = b.connect("sam")) {
      String agent = createAgent(onA, "stoppable");
      String turn = send(onA, agent, "#slow 200 100").getString("turnId");
      onA.event(agent, "assistant_text");
      JsonObject reply = onB.call("interrupt", Json.createObjectBuilder().add("agentId", agent));
      assertEquals("reply", reply.getString("type"), reply.toString());
      assertTrue(reply.getBoolean("interrupted"), "B knows a turn runs elsewhere: " + reply);
      List<JsonObject> events = TurnRacesIT.untilEnd(onA, agent, turn);
      JsonObject end = events.get(events.size() - 1);
      assertEquals("turn_interrupted", end.getString("kind"), events.toString());
      assertEquals("interrupted by the user", end.getString("reason"));
    }
  }

  @Test
  @Order(3)
  void bTakesOverAnAgentFromAKilledAWithNoGapAndNoDuplicate() throws Exception {
    String agent;
    String cut;
    List<JsonObject> seen = new ArrayList<>();
    try (WsClient ws = a.connect("tom")) {
      agent = createAgent(ws, "orphaned");
      assertEquals("Echo: first", text(ItSupport.turn(ws, agent, "first")));
      cut = send(ws, agent, "#slow 100 200").getString("turnId");
      while (seen.isEmpty() || !"assistant_text".equals(seen.get(seen.size() - 1).getString("kind"))) {
        seen.add(ws.next(f -> "event".equals(WsClient.type(f)) && agent.equals(f.getJsonObject("event").getString(
            "agentId"))).getJsonObject("event"));
      }
    }
    a.killServer();
    try (WsClient ws = b.connect("tom")) {
      // While A's lease holds, B cannot know A is dead: it answers busy, as for a turn that runs.
      JsonObject reply = call(ws, agent, "are you back?");
      for (int tries = 1; "error".equals(reply.getString("type")); tries++) {
        assertEquals("busy", reply.getString("code"), reply.toString());
        assertTrue(tries < 240, "B still refuses after 2 minutes, far past the lease: " + reply);
        Thread.sleep(500); // the pace of a user trying again, not a wait for something to be done
        reply = call(ws, agent, "are you back?");
      }
      String next = reply.getString("turnId");
      List<JsonObject> events = TurnRacesIT.untilEnd(ws, agent, next);
      assertEquals("Echo: are you back?", text(events));
    }
    List<JsonObject> history = historyOnB("tom", agent);
    assertNoGapNoDuplicate(history);
    List<JsonObject> ends = history.stream().filter(e -> cut.equals(e.getString("turnId")) && TurnRacesIT.END_KINDS
        .contains(e.getString("kind"))).toList();
    assertEquals(1, ends.size(), "one end event for the cut turn: " + history);
    assertEquals("turn_failed", ends.get(0).getString("kind"));
    assertEquals("the server stopped during this turn", ends.get(0).getString("reason"));
    List<JsonObject> kept = history.subList(0, history.indexOf(ends.get(0)));
    assertTrue(kept.containsAll(seen), "every event a client saw on A was kept");
  }

  @Test
  @Order(4)
  void theEmbeddedStoreRefusesASecondServerOnItsDataDirectory() throws Exception {
    Path dir = a.dataDir().resolve("embedded-held");
    Files.createDirectories(dir);
    // The test's JVM holds the store's lock as a first server would.
    try (FileChannel channel = FileChannel.open(dir.resolve("agent-platform.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock held = channel.lock()) {
      b.stop();
      b.start(Map.of("STORE", "embedded", "DATA_DIR", dir.toString(), "WORKSPACE_ROOT", a.dataDir().resolve(
          "workspaces").toString()));
      HttpResponse<String> r = b.call("GET", "/api/agents", "uma", null);
      assertTrue(r.statusCode() >= 500, "the second server serves nothing: " + r.statusCode() + " " + r.body());
      assertTrue(b.messagesLog().contains("is in use by another server: the embedded (SQLite) store serves one"
          + " server only"), "the log says why");
      assertTrue(!Files.exists(dir.resolve("agent-platform.db")), "the second server did not open the database");
    } finally {
      b.stop();
    }
  }

  private static List<JsonObject> historyOnB(String user, String agent) throws Exception {
    List<JsonObject> all = new ArrayList<>();
    long after = 0;
    while (true) {
      HttpResponse<String> r = b.call("GET", "/api/agents/" + agent + "/events?after=" + after + "&limit=1000", user,
          null);
      assertEquals(200, r.statusCode(), r.body());
      JsonObject page = Json.createReader(new StringReader(r.body())).readObject();
      all.addAll(page.getJsonArray("events").getValuesAs(jakarta.json.JsonValue::asJsonObject));
      if (!page.getBoolean("hasMore")) {
        return all;
      }
      after = page.getJsonNumber("nextAfter").longValue();
    }
  }

  private static void assertNoGapNoDuplicate(List<JsonObject> history) {
    long[] seqs = history.stream().mapToLong(e -> e.getJsonNumber("seq").longValue()).toArray();
    assertTrue(java.util.Arrays.equals(LongStream.rangeClosed(1, seqs.length).toArray(), seqs), "seqs 1.."
        + seqs.length + " each once: " + java.util.Arrays.toString(seqs));
  }

  private static JsonObject call(WsClient ws, String agent, String text) {
    try {
      return ws.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", text));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
