package dev.agentplatform.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentChanges;
import dev.agentplatform.agent.AgentRepository;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.conversation.EventStore;
import dev.agentplatform.conversation.StoredText;
import dev.agentplatform.error.StoreException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The one contract every store adapter fulfils (its life cycle and both ports, {@link AgentRepository} and
 * {@link EventStore}); each adapter's test extends it and says how to open (and reopen) its store.
 */
public abstract class StoreContract<S extends PlatformStore & AgentRepository & EventStore> {

  private S store;

  /** Opens the adapter's store; called before each test, and again to reopen the same data as after a restart. */
  protected abstract S open();

  @BeforeEach
  void openStore() {
    store = open();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  private S store() {
    return store;
  }

  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00.123456Z");

  protected static Agent agent(String owner, Instant created) {
    return new Agent(UUID.randomUUID().toString().replace("-", ""), owner, "name-" + owner, "be brief", "sonnet",
        List.of("Write", "Bash(git log:*)"), AgentStatus.IDLE, null, created, created);
  }

  protected static ConversationEvent event(String agentId, long seq, EventPayload payload) {
    return new ConversationEvent(agentId, seq, "turn_1", T0.plusMillis(seq), false, payload);
  }

  @Test
  void createFindListUpdateDelete() {
    String owner = "owner-" + UUID.randomUUID();
    Agent a = agent(owner, T0);
    Agent b = agent(owner, T0.plusSeconds(1));
    store().createAgent(b);
    store().createAgent(a);
    store().createAgent(agent("someone-else-" + UUID.randomUUID(), T0));

    assertEquals(a, store().findAgent(a.id()).orElseThrow());
    assertEquals(List.of(a, b), store().listAgents(owner));

    Agent renamed = a.withChanges(new AgentChanges("renamed", "new rules", "opus", List.of("Read")), T0.plusSeconds(4));
    assertTrue(store().updateSettings(renamed));
    assertTrue(store().updateState(a.id(), AgentStatus.RUNNING, "sess", T0.plusSeconds(5)));
    Agent both = renamed.withStatus(AgentStatus.RUNNING, T0.plusSeconds(5)).withCliSessionId("sess", T0.plusSeconds(5));
    assertEquals(both, store().findAgent(a.id()).orElseThrow(), "each update keeps the other's fields");
    // A settings update written from a stale read must not undo the state written since.
    assertTrue(store().updateSettings(a.withChanges(new AgentChanges("again", null, null, null), T0.plusSeconds(6))));
    Agent after = store().findAgent(a.id()).orElseThrow();
    assertEquals("again", after.name());
    assertEquals(AgentStatus.RUNNING, after.status());
    assertEquals("sess", after.cliSessionId());
    assertFalse(store().updateSettings(agent(owner, T0)), "updating a missing agent reports false");
    assertFalse(store().updateState("missing", AgentStatus.IDLE, null, T0));
    store().updateSettings(a);
    store().updateState(a.id(), AgentStatus.IDLE, null, T0);

    store().appendEvents(a.id(), List.of(event(a.id(), 1, new EventPayload.UserMessage("hi"))));
    store().deleteEvents(a.id());
    assertTrue(store().events(a.id(), 0, 10).isEmpty(), "deleting an agent's events leaves none");
    assertTrue(store().deleteAgent(a.id()));
    assertTrue(store().findAgent(a.id()).isEmpty());
    assertFalse(store().deleteAgent(a.id()));
    assertEquals(List.of(b), store().listAgents(owner));
  }

  @Test
  void eventsOfEveryKindRoundTripInSeqOrder() {
    Agent a = agent("events-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    List<ConversationEvent> events = List.of(
        event(a.id(), 1, new EventPayload.UserMessage("write <b>it</b> \u00e9\u2603")),
        event(a.id(), 2, new EventPayload.AgentStatusChanged(AgentStatus.RUNNING, "")),
        event(a.id(), 3, new EventPayload.ToolCall("t1", "Write",
            Json.createObjectBuilder().add("file_path", "/w/a.txt").add("n", 3).build())),
        event(a.id(), 4, new EventPayload.ToolResult("t1", "ok", false)),
        event(a.id(), 5, new EventPayload.AssistantText("m1", "Done.")),
        event(a.id(), 6, new EventPayload.TurnCompleted("Done.", new Usage(10, 20, 30, 40), 0.0125, 812, 2)),
        event(a.id(), 7, new EventPayload.TurnFailed("boom")),
        event(a.id(), 8, new EventPayload.TurnInterrupted("by the user")),
        new ConversationEvent(a.id(), 9, "turn_2", T0.plusMillis(9), true, new EventPayload.AssistantText("s",
            "canned")));
    store().appendEvents(a.id(), events.subList(0, 3));
    store().appendEvents(a.id(), events.subList(3, 9));

    assertEquals(events, store().events(a.id(), 0, 100));
    assertEquals(events.subList(2, 5), store().events(a.id(), 2, 3));
    assertEquals(9, store().lastSeq(a.id()));
    assertTrue(store().events(a.id(), 8, 1).get(0).simulated(), "the simulated mark is kept");
    assertEquals(0, store().lastSeq("no-such-agent"));
  }

  @Test
  void aTakenSeqFailsTheWholeBatch() {
    Agent a = agent("conflict-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    store().appendEvents(a.id(), List.of(event(a.id(), 1, new EventPayload.UserMessage("first"))));
    assertThrows(StoreException.class, () -> store().appendEvents(a.id(), List.of(
        event(a.id(), 2, new EventPayload.UserMessage("second")),
        event(a.id(), 1, new EventPayload.UserMessage("overwrite?")))));
    List<ConversationEvent> kept = store().events(a.id(), 0, 10);
    assertEquals(1, kept.size(), "nothing of the failed batch is kept");
    assertEquals("first", ((EventPayload.UserMessage) kept.get(0).payload()).text());
  }

  @Test
  void dataSurvivesReopening() {
    Agent a = agent("durable-" + UUID.randomUUID(), T0.truncatedTo(ChronoUnit.MICROS));
    store().createAgent(a);
    List<ConversationEvent> events = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      events.add(event(a.id(), i, new EventPayload.AssistantText("m", "part " + i)));
    }
    store().appendEvents(a.id(), events);
    try (S again = open()) {
      assertEquals(a, again.findAgent(a.id()).orElseThrow());
      assertEquals(events, again.events(a.id(), 0, 10));
    }
  }

  @Test
  void agentsWithAStatusAreFoundWhoeverOwnsThem() {
    Agent a = agent("left-running-" + UUID.randomUUID(), T0);
    Agent b = agent("left-running-" + UUID.randomUUID(), T0);
    Agent idle = agent("idle-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    store().createAgent(b);
    store().createAgent(idle);
    store().updateState(a.id(), AgentStatus.RUNNING, "s1", T0.plusSeconds(1));
    store().updateState(b.id(), AgentStatus.RUNNING, null, T0.plusSeconds(1));

    List<String> running = store().agentsWithStatus(AgentStatus.RUNNING).stream().map(Agent::id).toList();
    assertTrue(running.contains(a.id()) && running.contains(b.id()), running.toString());
    assertFalse(running.contains(idle.id()), running.toString());
    assertEquals(a.withStatus(AgentStatus.RUNNING, T0.plusSeconds(1)).withCliSessionId("s1", T0.plusSeconds(1)),
        store().agentsWithStatus(AgentStatus.RUNNING).stream().filter(x -> x.id().equals(a.id())).findFirst()
            .orElseThrow());
    store().updateState(a.id(), AgentStatus.ERROR, "s1", T0.plusSeconds(2));
    assertFalse(store().agentsWithStatus(AgentStatus.RUNNING).stream().anyMatch(x -> x.id().equals(a.id())));
  }

  @Test
  void pingAnswers() {
    store().ping();
  }

  @Test
  void twelveHundredEventsAreAppendedInCallsOfFourHundredAndDeletedInChunks() {
    Agent a = agent("many-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    for (int call = 0; call < 3; call++) {
      List<ConversationEvent> events = new ArrayList<>();
      for (int i = 1; i <= EventStore.MAX_EVENTS_PER_CALL; i++) {
        long seq = call * EventStore.MAX_EVENTS_PER_CALL + i;
        events.add(event(a.id(), seq, new EventPayload.AssistantText("m", "part " + seq)));
      }
      store().appendEvents(a.id(), events);
    }
    assertEquals(1200, store().lastSeq(a.id()));
    assertEquals(1200, store().events(a.id(), 0, 2000).size());
    store().deleteEvents(a.id());
    assertEquals(0, store().lastSeq(a.id()));
    assertTrue(store().events(a.id(), 0, 10).isEmpty(), "all 1,200 events are gone");
    assertTrue(store().deleteAgent(a.id()));
  }

  @Test
  void aCallOverTheLimitIsRefusedWhole() {
    Agent a = agent("over-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    List<ConversationEvent> events = new ArrayList<>();
    for (int i = 1; i <= EventStore.MAX_EVENTS_PER_CALL + 1; i++) {
      events.add(event(a.id(), i, new EventPayload.UserMessage("m" + i)));
    }
    assertThrows(IllegalArgumentException.class, () -> store().appendEvents(a.id(), events));
    assertEquals(0, store().lastSeq(a.id()));
  }

  @Test
  void aTwoMegabyteWriteToolCallIsStoredCutAndReadable() {
    Agent a = agent("big-" + UUID.randomUUID(), T0);
    store().createAgent(a);
    // Two-byte and four-byte characters and quotes: the cut must count stored bytes, not chars.
    String content = "\u00e9\"\ud83d\ude00 ".repeat(2 * 1024 * 1024 / 9);
    JsonObject input = Json.createObjectBuilder().add("file_path", "/w/big.txt").add("content", content).build();
    String output = "\u2603".repeat(1024 * 1024);
    store().appendEvents(a.id(), List.of(
        event(a.id(), 1, new EventPayload.ToolCall("t1", "Write", StoredText.cutInput(input))),
        event(a.id(), 2, new EventPayload.ToolResult("t1", StoredText.cut(output), false)),
        event(a.id(), 3, new EventPayload.AssistantText("m", StoredText.cut(content)))));
    List<ConversationEvent> stored = store().events(a.id(), 0, 10);
    assertEquals(3, stored.size());
    JsonObject kept = ((EventPayload.ToolCall) stored.get(0).payload()).input().asJsonObject();
    assertEquals("/w/big.txt", kept.getString("file_path"), "the page still shows the path");
    assertTrue(kept.getString("content").startsWith(content.substring(0, 1000)));
    assertTrue(kept.getString("content").contains("more bytes not kept]"), "the cut says so");
    assertTrue(kept.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= StoredText.MAX_INPUT_BYTES);
  }
}
