package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.RawWebSocket;
import dev.agentplatform.testing.WsClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that vanishes without closing (it completed the handshake, subscribed, then never reads nor answers)
 * is pinged, then dropped with 1001; meanwhile the agent it watched and other clients go on unhindered.
 */
class SilentPeerIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(java.util.Map.of());
  }

  @Test
  void aSilentPeerIsPingedThenDroppedAndStallsNobody() throws Exception {
    try (WsClient owner = platform.connect("silent-user");
        RawWebSocket silent = RawWebSocket.open(platform.httpPort(), Map.of("X-User", "silent-user"))) {
      String agent = ItSupport.createAgent(owner, "watched");
      silent.readText(WsClient.WAIT);
      silent.sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"agentId\":\"" + agent + "\"}");
      assertTrue(silent.readText(WsClient.WAIT).contains("\"afterSeq\""));

      // From here on the silent peer only reads what it must to see the server give up on it.
      List<JsonObject> turn = ItSupport.turn(owner, agent, "#slow 5 100");
      assertEquals("turn_completed", turn.get(turn.size() - 1).getString("kind"), "the agent was not stalled");

      int pings = 0;
      RawWebSocket.Frame close = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        RawWebSocket.Frame f = silent.read(WsClient.WAIT);
        assertNotNull(f, "a close frame comes before the connection ends");
        if (f.opcode() == 0x9) {
          pings++;
        } else if (f.opcode() == 0x8) {
          close = f;
          break;
        }
      }
      assertNotNull(close, "the silent peer was closed");
      assertTrue(pings >= 1, "it was pinged first");
      assertEquals(1001, close.closeCode());
      assertTrue(close.text().contains("no answer to pings"), close.text());

      assertTrue(owner.call("ping").getBoolean("pong"), "the other client still answers");
      ItSupport.turn(owner, agent, "still here?");
    }
  }
}
