package dev.agentplatform.conversation;

import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import dev.agentplatform.conversation.EventPayload.AssistantText;
import dev.agentplatform.conversation.EventPayload.ToolCall;
import dev.agentplatform.conversation.EventPayload.ToolResult;
import dev.agentplatform.conversation.EventPayload.TurnCompleted;
import dev.agentplatform.conversation.EventPayload.TurnFailed;
import dev.agentplatform.conversation.EventPayload.TurnInterrupted;
import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.io.StringReader;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The one JSON form of conversation events, used on the WebSocket, in REST and by the stores. */
public final class EventJson {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  /** Always six fractional digits: {@code Instant.toString} drops zeros, and clients parse one fixed form. */
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
      .withZone(ZoneOffset.UTC);

  private EventJson() {
  }

  /** An event time as written on the wire and in REST: UTC, microseconds ({@code 2026-11-24T03:12:25.348000Z}). */
  public static String timestamp(Instant at) {
    return TS.format(at);
  }

  /** The whole event as clients see it: envelope fields and the payload's fields side by side. */
  public static JsonObject toJson(ConversationEvent event) {
    JsonObjectBuilder b = JSON.createObjectBuilder()
        .add("agentId", event.agentId())
        .add("seq", event.seq())
        .add("turnId", event.turnId() == null ? "" : event.turnId())
        .add("ts", timestamp(event.timestamp()))
        .add("kind", event.kind());
    if (event.simulated()) {
      b.add("simulated", true);
    }
    payloadFields(event.payload(), b);
    return b.build();
  }

  /** Only the payload's fields (what a store keeps beside seq, turn id, time and kind). */
  public static JsonObject payloadToJson(EventPayload payload) {
    JsonObjectBuilder b = JSON.createObjectBuilder();
    payloadFields(payload, b);
    return b.build();
  }

  public static String payloadToString(EventPayload payload, boolean simulated) {
    JsonObject json = payloadToJson(payload);
    return simulated ? JSON.createObjectBuilder(json).add("simulated", true).build().toString() : json.toString();
  }

  /** Rebuilds a stored event from its columns. */
  public static ConversationEvent fromStored(String agentId, long seq, String turnId, Instant ts, String kind,
      String payloadJson) {
    JsonObject data = JSON.createReader(new StringReader(payloadJson)).readObject();
    return new ConversationEvent(agentId, seq, turnId, ts, data.getBoolean("simulated", false),
        payloadFromJson(kind, data));
  }

  public static EventPayload payloadFromJson(String kind, JsonObject o) {
    return switch (kind) {
      case "user_message" -> new UserMessage(o.getString("text"));
      case "assistant_text" -> new AssistantText(o.getString("messageId", ""), o.getString("text"));
      case "tool_call" -> new ToolCall(o.getString("toolUseId"), o.getString("name"),
          o.getOrDefault("input", JsonValue.EMPTY_JSON_OBJECT));
      case "tool_result" -> new ToolResult(o.getString("toolUseId"), o.getString("output"),
          o.getBoolean("isError", false));
      case "turn_completed" -> {
        JsonObject u = o.getJsonObject("usage");
        yield new TurnCompleted(o.getString("result", ""),
            new Usage(u.getJsonNumber("inputTokens").longValue(), u.getJsonNumber("outputTokens").longValue(),
                u.getJsonNumber("cacheReadInputTokens").longValue(),
                u.getJsonNumber("cacheCreationInputTokens").longValue()),
            o.getJsonNumber("costUsd").doubleValue(), o.getJsonNumber("durationMs").longValue(), o.getInt("numTurns"));
      }
      case "turn_failed" -> new TurnFailed(o.getString("reason"));
      case "turn_interrupted" -> new TurnInterrupted(o.getString("reason"));
      case "agent_status" -> new AgentStatusChanged(AgentStatus.fromWire(o.getString("status")),
          o.getString("detail", ""));
      default -> throw new IllegalArgumentException("unknown event kind: " + kind);
    };
  }

  private static void payloadFields(EventPayload payload, JsonObjectBuilder b) {
    if (payload instanceof UserMessage m) {
      b.add("text", m.text());
    } else if (payload instanceof AssistantText t) {
      b.add("messageId", t.messageId()).add("text", t.text());
    } else if (payload instanceof ToolCall c) {
      b.add("toolUseId", c.toolUseId()).add("name", c.name()).add("input", c.input());
    } else if (payload instanceof ToolResult r) {
      b.add("toolUseId", r.toolUseId()).add("output", r.output()).add("isError", r.isError());
    } else if (payload instanceof TurnCompleted c) {
      b.add("result", c.result())
          .add("usage", JSON.createObjectBuilder()
              .add("inputTokens", c.usage().inputTokens())
              .add("outputTokens", c.usage().outputTokens())
              .add("cacheReadInputTokens", c.usage().cacheReadInputTokens())
              .add("cacheCreationInputTokens", c.usage().cacheCreationInputTokens()))
          .add("costUsd", c.costUsd()).add("durationMs", c.durationMs()).add("numTurns", c.numTurns());
    } else if (payload instanceof TurnFailed f) {
      b.add("reason", f.reason());
    } else if (payload instanceof TurnInterrupted i) {
      b.add("reason", i.reason());
    } else if (payload instanceof AgentStatusChanged s) {
      b.add("status", s.status().wire()).add("detail", s.detail());
    }
  }
}
