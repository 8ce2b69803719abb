package dev.agentplatform.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.EventJson;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The event frame built once per event for all its subscribers, and the same as built for each. */
class EventFramesTest {

  private static ConversationEvent event(long seq, String text) {
    return new ConversationEvent("a1", seq, "turn_1", Instant.parse("2026-11-24T23:00:00.123456Z"), false,
        new AssistantText("msg_1", text));
  }

  @Test
  void aFanOutBuildsTheFrameOnceAndEachSubscriberGetsTheSameFrame() {
    ConversationEvent e = event(7, "hello \"world\"");
    EventFrames.Frame first = EventFrames.frame(e);
    assertEquals(ProtocolCodec.event(EventJson.toJson(e)), first.text(), "the same text as built for each");
    assertEquals(EventJson.toJson(e).toString(), first.json());
    assertEquals("a1", first.agentId());
    for (int i = 0; i < 99; i++) {
      assertSame(first, EventFrames.frame(e), "built once for the fan-out");
    }
  }

  @Test
  void anotherEventGetsItsOwnFrameEvenWhenEqual() {
    ConversationEvent e1 = event(8, "one");
    ConversationEvent e2 = event(9, "two");
    EventFrames.Frame f1 = EventFrames.frame(e1);
    EventFrames.Frame f2 = EventFrames.frame(e2);
    assertEquals(ProtocolCodec.event(EventJson.toJson(e2)), f2.text());
    assertEquals(ProtocolCodec.event(EventJson.toJson(e1)), EventFrames.frame(e1).text(),
        "a replayed event after a newer one");
    ConversationEvent copy = event(8, "one");
    assertNotSame(EventFrames.frame(e1), EventFrames.frame(copy), "compared by identity, not by value");
    assertEquals(f1, EventFrames.frame(copy));
  }
}
