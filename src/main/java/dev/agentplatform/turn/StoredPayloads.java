package dev.agentplatform.turn;

import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.conversation.StoredText;
import dev.agentplatform.conversation.EventPayload.AgentStatusChanged;
import dev.agentplatform.conversation.EventPayload.ToolCall;
import dev.agentplatform.conversation.EventPayload.ToolResult;
import dev.agentplatform.conversation.EventPayload.TurnCompleted;
import dev.agentplatform.conversation.EventPayload.TurnFailed;
import dev.agentplatform.conversation.EventPayload.TurnInterrupted;
import dev.agentplatform.conversation.EventPayload.UserMessage;
import dev.agentplatform.runtime.RuntimeEvent;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.util.Map;

/**
 * Builds the payloads a turn stores, the one place that blots the configured secrets out of every string in them
 * (the agent's tools can read their own environment, and a model may repeat what it saw) and cuts over-long text.
 *
 * <p>Streamed text goes through {@link HeldText}, which also catches a secret that deltas split.
 */
final class StoredPayloads {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private final Secrets secrets;

  StoredPayloads(Secrets secrets) {
    this.secrets = secrets;
  }

  UserMessage userMessage(String text) {
    return new UserMessage(redact(text));
  }

  /** A turn's streamed text, redacted even where a delta ends inside a secret. */
  HeldText heldText() {
    return new HeldText(secrets);
  }

  ToolCall toolCall(RuntimeEvent.ToolUse u) {
    return new ToolCall(redact(u.toolUseId()), redact(u.name()), StoredText.cutInput(redact(u.input())));
  }

  ToolResult toolResult(RuntimeEvent.ToolOutput o) {
    return new ToolResult(redact(o.toolUseId()), cut(redact(o.output())), o.isError());
  }

  /** A running status whose detail tells why nothing arrives: the CLI waits between attempts at the model API. */
  AgentStatusChanged retrying(RuntimeEvent.Retrying r) {
    return status(AgentStatus.RUNNING, "the model API is not answering (" + r.error() + "); retry " + r.attempt()
        + " of " + r.maxRetries());
  }

  TurnCompleted completed(RuntimeEvent.Completed c) {
    return new TurnCompleted(cut(redact(c.result())), c.usage(), c.costUsd(), c.durationMs(), c.numTurns());
  }

  TurnFailed failed(String reason) {
    return new TurnFailed(cut(redact(reason)));
  }

  TurnInterrupted interrupted(String reason) {
    return new TurnInterrupted(redact(reason));
  }

  AgentStatusChanged status(AgentStatus status, String detail) {
    return new AgentStatusChanged(status, cut(redact(detail == null ? "" : detail)));
  }

  String redact(String text) {
    return text == null ? "" : secrets.redact(text);
  }

  /** The same JSON with every string in it redacted, object keys included. */
  JsonValue redact(JsonValue value) {
    if (value == null) {
      return JsonValue.EMPTY_JSON_OBJECT;
    }
    if (value instanceof JsonString s) {
      String clean = redact(s.getString());
      return clean.equals(s.getString()) ? s : JSON.createValue(clean);
    }
    if (value instanceof JsonObject o) {
      JsonObjectBuilder b = JSON.createObjectBuilder();
      for (Map.Entry<String, JsonValue> e : o.entrySet()) {
        b.add(redact(e.getKey()), redact(e.getValue()));
      }
      return b.build();
    }
    if (value instanceof JsonArray a) {
      JsonArrayBuilder b = JSON.createArrayBuilder();
      a.forEach(v -> b.add(redact(v)));
      return b.build();
    }
    return value;
  }

  /** Long text is cut to fit a Firestore document (1 MiB), by stored bytes, never inside a character. */
  static String cut(String text) {
    return StoredText.cut(text == null ? "" : text);
  }
}
