package dev.agentplatform.turn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.conversation.EventPayload.ToolCall;
import dev.agentplatform.conversation.EventPayload.ToolResult;
import dev.agentplatform.conversation.EventPayload.TurnCompleted;
import jakarta.json.spi.JsonProvider;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A turn's replayed output after a restart: what the store holds is left out once, the rest stored in order. */
class StoredPrefixTest {

  private static final JsonProvider JSON = JsonProvider.provider();
  private static final AgentStatusChanged RUNNING = new AgentStatusChanged(AgentStatus.RUNNING, "");
  private static final AgentStatusChanged PREPARING = new AgentStatusChanged(AgentStatus.RUNNING,
      "starting a sandbox: waiting for a node");
  private static final AgentStatusChanged RETRYING = new AgentStatusChanged(AgentStatus.RUNNING,
      "the model API is not answering (overloaded); retry 1 of 10");

  private final List<EventPayload> replay = List.of(new AssistantText("m1", "Hel"), new AssistantText("m1", "lo"),
      RETRYING, new ToolCall("t1", "Bash", JSON.createObjectBuilder().add("command", "ls").add("timeout", 5000)
          .build()), new ToolResult("t1", "a.txt", false), new AssistantText("m2", "Done."),
      new TurnCompleted("Done.", null, 0.01, 1200, 2));

  @Test
  void whatWasStoredBeforeTheRestartIsLeftOutAndNothingElse() {
    for (int storedBefore = 0; storedBefore < replay.size(); storedBefore++) {
      List<EventPayload> stored = new ArrayList<>(List.of(RUNNING, PREPARING, PREPARING));
      stored.addAll(replay.subList(0, storedBefore));
      assertEquals(replay.subList(storedBefore, replay.size()), storedAfterRestart(stored), "with " + storedBefore
          + " of the turn's events stored");
    }
  }

  @Test
  void aToolCallReadBackFromTheStoreEqualsItsReplay() {
    // The store gives the input back as a new JSON object: equal by content.
    ToolCall read = new ToolCall("t1", "Bash", JSON.createReader(new java.io.StringReader(
        "{\"command\":\"ls\",\"timeout\":5000}")).readObject());
    List<EventPayload> stored = List.of(RUNNING, replay.get(0), replay.get(1), replay.get(2), read);
    assertEquals(replay.subList(4, replay.size()), storedAfterRestart(stored));
  }

  @Test
  void aReplayThatDiffersFromTheStoreIsStoredFromWhereItDiffers() {
    List<EventPayload> stored = List.of(RUNNING, new AssistantText("m1", "Other"));
    assertEquals(replay, storedAfterRestart(stored), "nothing is dropped that the store does not hold");
  }

  @Test
  void anEventRepeatedLaterInTheTurnIsStoredAgain() {
    List<EventPayload> stored = List.of(RUNNING, new AssistantText("m1", "a"));
    StoredPrefix prefix = new StoredPrefix(stored);
    List<EventPayload> kept = new ArrayList<>();
    for (EventPayload p : List.of(new AssistantText("m1", "a"), new AssistantText("m1", "b"),
        new AssistantText("m1", "a"))) {
      if (!prefix.alreadyStored(p)) {
        kept.add(p);
      }
    }
    assertEquals(List.of(new AssistantText("m1", "b"), new AssistantText("m1", "a")), kept);
  }

  private List<EventPayload> storedAfterRestart(List<EventPayload> stored) {
    StoredPrefix prefix = new StoredPrefix(stored);
    List<EventPayload> kept = new ArrayList<>();
    for (EventPayload p : replay) {
      if (!prefix.alreadyStored(p)) {
        kept.add(p);
      }
    }
    return kept;
  }
}
