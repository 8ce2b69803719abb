package dev.agentplatform.runtime.cli;

import dev.agentplatform.conversation.EventPayload.Usage;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeEvent.Completed;
import dev.agentplatform.runtime.RuntimeEvent.Failed;
import dev.agentplatform.runtime.RuntimeEvent.SessionStarted;
import dev.agentplatform.runtime.RuntimeEvent.TextDelta;
import dev.agentplatform.runtime.RuntimeEvent.ToolOutput;
import dev.agentplatform.runtime.RuntimeEvent.ToolUse;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns the CLI's stream-json lines into {@link RuntimeEvent}s. One mapper follows one CLI process, because
 * some facts span lines: which messages were already streamed delta by delta, and the process's running cost
 * total.
 *
 * <p>Only the main conversation is mapped; the inner messages of sub-agents (lines with a
 * {@code parent_tool_use_id}) are left out, their outcome arrives as the Task tool's result.
 */
public final class StreamJsonMapper {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private final Set<String> streamedMessages = new HashSet<>();
  private String currentMessageId = "";
  private double previousTotalCost;

  /** Maps one line; blank lines and line types the platform does not use map to nothing. */
  public List<RuntimeEvent> map(String line) throws CliOutputException {
    if (line.isBlank()) {
      return List.of();
    }
    JsonObject o = parse(line);
    String type = o.getString("type", "");
    if (!(o.get("parent_tool_use_id") == null || o.get("parent_tool_use_id") == JsonValue.NULL)) {
      return List.of();
    }
    switch (type) {
      case "system":
        if ("init".equals(o.getString("subtype", "")) && o.containsKey("session_id")) {
          return List.of(new SessionStarted(o.getString("session_id")));
        }
        if ("api_retry".equals(o.getString("subtype", ""))) {
          return List.of(retry(o));
        }
        return List.of();
      case "stream_event":
        return streamEvent(o);
      case "assistant":
        return assistant(o);
      case "user":
        return user(o);
      case "result":
        return List.of(result(o));
      default:
        return List.of();
    }
  }

  private static JsonObject parse(String line) throws CliOutputException {
    try {
      JsonValue v = JSON.createReader(new StringReader(line)).readValue();
      if (v instanceof JsonObject o) {
        return o;
      }
    } catch (JsonException e) {
      // reported below
    }
    throw new CliOutputException("the CLI printed a line that is not stream-json: " + abbreviate(line, 200));
  }

  private static RuntimeEvent retry(JsonObject o) {
    String status = o.get("error_status") instanceof JsonNumber n ? "HTTP " + n.intValue() : "";
    String error = o.get("error") instanceof JsonString s ? s.getString() : "";
    String what = (status + " " + error).strip();
    return new RuntimeEvent.Retrying((int) longOf(o, "attempt"), (int) longOf(o, "max_retries"),
        what.isEmpty() ? "no answer" : what);
  }

  private List<RuntimeEvent> streamEvent(JsonObject o) {
    JsonObject event = o.getJsonObject("event");
    if (event == null) {
      return List.of();
    }
    String type = event.getString("type", "");
    if ("message_start".equals(type) && event.getJsonObject("message") != null) {
      currentMessageId = event.getJsonObject("message").getString("id", "");
      return List.of();
    }
    if ("content_block_delta".equals(type)) {
      JsonObject delta = event.getJsonObject("delta");
      if (delta != null && "text_delta".equals(delta.getString("type", ""))) {
        String messageId = o.getString("api_message_id", currentMessageId);
        streamedMessages.add(messageId);
        return List.of(new TextDelta(messageId, delta.getString("text", "")));
      }
    }
    return List.of();
  }

  private List<RuntimeEvent> assistant(JsonObject o) {
    JsonObject message = o.getJsonObject("message");
    if (message == null || !(message.get("content") instanceof JsonArray content)) {
      return List.of();
    }
    String messageId = message.getString("id", "");
    List<RuntimeEvent> out = new ArrayList<>();
    for (JsonValue v : content) {
      if (!(v instanceof JsonObject block)) {
        continue;
      }
      String type = block.getString("type", "");
      if ("text".equals(type) && !streamedMessages.contains(messageId)) {
        out.add(new TextDelta(messageId, block.getString("text", "")));
      } else if ("tool_use".equals(type)) {
        out.add(new ToolUse(block.getString("id", ""), block.getString("name", ""),
            block.getOrDefault("input", JsonValue.EMPTY_JSON_OBJECT)));
      }
    }
    return out;
  }

  private static List<RuntimeEvent> user(JsonObject o) {
    JsonObject message = o.getJsonObject("message");
    if (message == null || !(message.get("content") instanceof JsonArray content)) {
      return List.of();
    }
    List<RuntimeEvent> out = new ArrayList<>();
    for (JsonValue v : content) {
      if (v instanceof JsonObject block && "tool_result".equals(block.getString("type", ""))) {
        out.add(new ToolOutput(block.getString("tool_use_id", ""), text(block.get("content")),
            block.getBoolean("is_error", false)));
      }
    }
    return out;
  }

  private RuntimeEvent result(JsonObject o) {
    streamedMessages.clear();
    double total = number(o, "total_cost_usd");
    double cost = turnCost(o, total);
    previousTotalCost = total;
    boolean error = o.getBoolean("is_error", false) || !"success".equals(o.getString("subtype", "success"));
    if (error) {
      String reason = o.get("result") instanceof JsonString s && !s.getString().isBlank() ? s.getString()
          : "the CLI reported " + o.getString("subtype", "an error");
      if (o.get("errors") instanceof JsonArray errors && !errors.isEmpty()) {
        reason = reason + ": " + text(errors);
      }
      return new Failed(reason);
    }
    JsonObject u = o.getJsonObject("usage");
    Usage usage = u == null ? Usage.NONE
        : new Usage(longOf(u, "input_tokens"), longOf(u, "output_tokens"), longOf(u, "cache_read_input_tokens"),
            longOf(u, "cache_creation_input_tokens"));
    return new Completed(o.get("result") instanceof JsonString s ? s.getString() : "", usage, cost,
        longOf(o, "duration_ms"), (int) longOf(o, "num_turns"), o.getString("session_id", null));
  }

  /**
   * A kept-warm process reports its running total in {@code total_cost_usd}; the turn's own cost is in
   * {@code model_usage_since_last_result} where present, else the difference from the previous total.
   */
  private double turnCost(JsonObject o, double total) {
    if (o.get("model_usage_since_last_result") instanceof JsonObject byModel) {
      double sum = 0;
      for (JsonValue v : byModel.values()) {
        if (v instanceof JsonObject m) {
          sum += number(m, "costUSD");
        }
      }
      return sum;
    }
    return Math.max(0, total - previousTotalCost);
  }

  private static String text(JsonValue content) {
    if (content == null || content == JsonValue.NULL) {
      return "";
    }
    if (content instanceof JsonString s) {
      return s.getString();
    }
    if (content instanceof JsonArray blocks) {
      StringBuilder b = new StringBuilder();
      for (JsonValue v : blocks) {
        if (b.length() > 0) {
          b.append('\n');
        }
        if (v instanceof JsonObject block) {
          b.append("text".equals(block.getString("type", "")) ? block.getString("text", "")
              : "[" + block.getString("type", "content") + "]");
        } else if (v instanceof JsonString s) {
          b.append(s.getString());
        } else {
          b.append(v);
        }
      }
      return b.toString();
    }
    return content.toString();
  }

  private static double number(JsonObject o, String key) {
    return o.get(key) instanceof JsonNumber n ? n.doubleValue() : 0;
  }

  private static long longOf(JsonObject o, String key) {
    return o.get(key) instanceof JsonNumber n ? n.longValue() : 0;
  }

  private static String abbreviate(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "..." : s;
  }
}
