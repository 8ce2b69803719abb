package dev.agentplatform.it;

import static dev.agentplatform.it.ItSupport.createAgent;
import static dev.agentplatform.it.ItSupport.find;
import static dev.agentplatform.it.ItSupport.send;
import static dev.agentplatform.it.ItSupport.turn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.store.firestore.FirestoreStore;
import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Firestore's limits through the whole platform (real CLI, Firestore emulator): a 2 MB Write is stored cut and the
 * turn completes; an agent deleted mid-turn leaves no event documents behind.
 */
class StoreLimitsIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(java.util.Map.of());
  }

  @Test
  void aTwoMegabyteWriteIsStoredCutAndTheTurnCompletes() throws Exception {
    try (WsClient ws = platform.connect("lena")) {
      String agent = createAgent(ws, "big-writer", "Write");
      List<JsonObject> events = turn(ws, agent, "#writebig big.txt 2097152");

      Path file = platform.workspace(agent).resolve("big.txt");
      assertEquals(2_097_152, Files.size(file), "the CLI wrote the whole file");
      JsonObject input = find(events, "tool_call").getJsonObject("input");
      assertEquals(file.toString(), input.getString("file_path"), "the page still shows the path");
      assertTrue(input.getString("content").startsWith("line 1 of a big file\nline 2 of a big file\n"));
      assertTrue(input.getString("content").endsWith(" more bytes not kept]"), "the stored content says it was cut");
      assertEquals("Wrote the file.", find(events, "turn_completed").getString("result"));
      List<JsonObject> stored = ConversationITHistory.of(platform, "lena", agent);
      assertEquals(input, find(stored, "tool_call").getJsonObject("input"), "Firestore holds the same cut input");
    }
  }

  @Test
  void deletingAnAgentMidTurnLeavesNoEventDocuments() throws Exception {
    try (WsClient ws = platform.connect("lena");
        FirestoreStore firestore = FirestoreStore.connect("agent-platform-it", "(default)",
            Platform.firestoreEmulatorHost())) {
      String agent = createAgent(ws, "doomed");
      send(ws, agent, "#slow 40 100");
      ws.event(agent, "assistant_text");
      assertTrue(firestore.lastSeq(agent) > 0, "the turn has stored events");

      JsonObject deleted = ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));
      assertEquals("reply", WsClient.type(deleted), deleted.toString());
      // The turn's CLI is gone once its last output was read: nothing can arrive after this.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!platform.processesIn(agent).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertEquals(List.of(), platform.processesIn(agent), "the turn's CLI was stopped");
      assertEquals(List.of(), firestore.events(agent, 0, 10), "no event document is left under the deleted agent");
      assertTrue(firestore.findAgent(agent).isEmpty());
    }
  }
}
