package dev.agentplatform.turn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.runtime.RuntimeEvent;
import jakarta.json.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import dev.agentplatform.conversation.StoredText;

/** Every string a turn stores has the configured secrets blotted out: one test per stored field. */
class StoredPayloadsTest {

  private static final String KEY = "sk-test-0123456789abcdef";
  private final StoredPayloads payloads = new StoredPayloads(new Secrets(List.of(KEY)));

  private static void clean(EventPayload stored) {
    String json = EventJson.payloadToJson(stored).toString();
    assertFalse(json.contains(KEY), json);
    assertTrue(json.contains("[redacted]"), json);
  }

  @Test
  void userMessageText() {
    clean(payloads.userMessage("#say " + KEY));
  }

  @Test
  void assistantText() {
    HeldText text = payloads.heldText();
    List<EventPayload.AssistantText> stored = new ArrayList<>(text.accept("msg_1", "the key is " + KEY + "."));
    text.flush().ifPresent(stored::add);
    assertEquals("the key is [redacted].", joined(stored));
    stored.forEach(StoredPayloadsTest::clean);
  }

  @Test
  void assistantTextWithTheSecretSplitAcrossDeltas() {
    HeldText text = payloads.heldText();
    List<EventPayload.AssistantText> stored = new ArrayList<>();
    String reply = "Your key: " + KEY + " (keep it safe) sk-t";
    for (int i = 0; i < reply.length(); i += 5) {
      stored.addAll(text.accept("msg_1", reply.substring(i, Math.min(reply.length(), i + 5))));
    }
    stored.addAll(text.accept("msg_2", "next"));
    text.flush().ifPresent(stored::add);

    for (EventPayload.AssistantText t : stored) {
      for (int at = 0; at + 6 <= KEY.length(); at++) {
        assertFalse(t.text().contains(KEY.substring(at, at + 6)), "a piece of the key in " + t);
      }
    }
    assertEquals("Your key: [redacted] (keep it safe) sk-t", joined(stored.stream()
        .filter(t -> t.messageId().equals("msg_1")).toList()), "the text of msg_1, whole and in order");
    assertEquals("next", stored.get(stored.size() - 1).text());
  }

  private static String joined(List<EventPayload.AssistantText> texts) {
    StringBuilder b = new StringBuilder();
    texts.forEach(t -> b.append(t.text()));
    return b.toString();
  }

  @Test
  void toolCallInputEveryStringKeysIncluded() {
    var input = Json.createObjectBuilder()
        .add("command", "curl -H 'x-api-key: " + KEY + "' http://127.0.0.1")
        .add(KEY, 1)
        .add("nested", Json.createObjectBuilder().add("list", Json.createArrayBuilder().add(KEY).add(2).add(true)))
        .build();
    var stored = payloads.toolCall(new RuntimeEvent.ToolUse("toolu_1", "Bash", input));
    clean(stored);
    var out = stored.input().asJsonObject();
    assertEquals("curl -H 'x-api-key: [redacted]' http://127.0.0.1", out.getString("command"));
    assertEquals(1, out.getInt("[redacted]"));
    assertEquals(Json.createArrayBuilder().add("[redacted]").add(2).add(true).build(),
        out.getJsonObject("nested").getJsonArray("list"), "numbers and booleans stay as they were");
  }

  @Test
  void toolResultOutput() {
    var stored = payloads.toolResult(new RuntimeEvent.ToolOutput("toolu_1", "ANTHROPIC_API_KEY=" + KEY, false));
    assertEquals("ANTHROPIC_API_KEY=[redacted]", stored.output());
    clean(stored);
  }

  @Test
  void turnCompletedResult() {
    var stored = payloads.completed(new RuntimeEvent.Completed("Your key: " + KEY, Usage.NONE, 0.01, 5, 1, "s1"));
    assertEquals("Your key: [redacted]", stored.result());
    clean(stored);
  }

  @Test
  void turnFailedReason() {
    clean(payloads.failed("API Error: 401 invalid x-api-key " + KEY));
  }

  @Test
  void turnInterruptedReason() {
    clean(payloads.interrupted("stopped while sending " + KEY));
  }

  @Test
  void retryDetail() {
    var stored = payloads.retrying(new RuntimeEvent.Retrying(2, 10, "HTTP 401 bad key " + KEY));
    assertEquals(AgentStatus.RUNNING, stored.status());
    clean(stored);
  }

  @Test
  void statusDetail() {
    clean(payloads.status(AgentStatus.ERROR, "failed: " + KEY));
  }

  @Test
  void longTextIsCutWithANote() {
    String big = "x".repeat(StoredText.MAX_TEXT_BYTES + 10);
    var stored = payloads.toolResult(new RuntimeEvent.ToolOutput("toolu_1", big, false));
    assertTrue(stored.output().matches("(?s)x+\\n?\\[\\.\\.\\. \\d+ more bytes not kept\\]"),
        stored.output().substring(stored.output().length() - 40));
  }
}
