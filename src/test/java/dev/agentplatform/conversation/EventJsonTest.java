package dev.agentplatform.conversation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentplatform.conversation.EventPayload.UserMessage;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventJsonTest {

  private static String ts(String instant) {
    return EventJson.toJson(new ConversationEvent("a1", 1, "turn_1", Instant.parse(instant), false,
        new UserMessage("hi"))).getString("ts");
  }

  @Test
  void anEventTimeAlwaysHasSixFractionalDigits() {
    assertEquals("2026-11-24T03:12:25.331060Z", ts("2026-11-24T03:12:25.331060Z"));
    assertEquals("2026-11-24T03:12:25.348000Z", ts("2026-11-24T03:12:25.348Z"), "a whole millisecond");
    assertEquals("2026-11-24T03:12:25.000000Z", ts("2026-11-24T03:12:25Z"), "a whole second");
    assertEquals("2026-11-24T00:00:00.000001Z", ts("2026-11-24T00:00:00.000001Z"));
  }

  @Test
  void theWrittenTimeReadsBackAsTheSameInstant() {
    Instant at = Instant.parse("2026-11-24T03:12:25.348Z");
    assertEquals(at, Instant.parse(EventJson.timestamp(at)));
  }
}
