package dev.agentplatform.session;

import dev.agentplatform.agent.AgentJson;
import dev.agentplatform.application.StrictJson;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import jakarta.json.Json;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.util.List;
import java.util.OptionalLong;

/**
 * The WebSocket protocol in one place: decodes client frames into {@link ClientMessage} records (any fault a
 * {@link ProtocolException} with a typed code) and encodes the server's frames. docs/protocol.md describes it.
 */
public final class ProtocolCodec {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  public static final int VERSION = 1;
  private static final int MAX_ID = 128;

  private ProtocolCodec() {
  }

  public static ClientMessage decode(String frame) {
    JsonObject o;
    try {
      o = StrictJson.object(frame, "a frame");
    } catch (PlatformException e) {
      // No id is read from a frame that is not sound JSON: it would be echoed mangled or not at all.
      throw new ProtocolException(e.code(), null, e.getMessage());
    }
    String id = requestId(o);
    try {
      String type = requiredString(o, "type", id);
      return switch (type) {
        case "agent.create" -> new ClientMessage.CreateAgent(id, AgentJson.draft(object(o, "agent", id), "agent"));
        case "agent.list" -> new ClientMessage.ListAgents(id);
        case "agent.get" -> new ClientMessage.GetAgent(id, requiredString(o, "agentId", id));
        case "agent.update" -> new ClientMessage.UpdateAgent(id, requiredString(o, "agentId", id),
            AgentJson.changes(object(o, "changes", id), "changes"));
        case "agent.delete" -> new ClientMessage.DeleteAgent(id, requiredString(o, "agentId", id));
        case "send" -> new ClientMessage.Send(id, requiredString(o, "agentId", id), requiredString(o, "text", id));
        case "interrupt" -> new ClientMessage.Interrupt(id, requiredString(o, "agentId", id));
        case "subscribe" -> new ClientMessage.Subscribe(id, requiredString(o, "agentId", id), afterSeq(o, id));
        case "unsubscribe" -> new ClientMessage.Unsubscribe(id, requiredString(o, "agentId", id));
        case "ping" -> new ClientMessage.Ping(id);
        case "options" -> new ClientMessage.Options(id, requiredBoolean(o, "batch", id));
        default -> throw new ProtocolException(ErrorCode.BAD_REQUEST, id, "unknown type '" + abbreviate(type)
            + "' (known: agent.create, agent.list, agent.get, agent.update, agent.delete, send, interrupt,"
            + " subscribe, unsubscribe, ping, options)");
      };
    } catch (ProtocolException e) {
      throw e;
    } catch (PlatformException e) {
      throw new ProtocolException(e.code(), id, e.getMessage());
    }
  }

  private static String requestId(JsonObject o) {
    JsonValue v = o.get("id");
    if (v == null || v == JsonValue.NULL) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, null, "id: required, a string the reply will echo");
    }
    String id = v instanceof JsonString s ? s.getString() : v instanceof JsonNumber n ? n.toString() : null;
    if (id == null || id.isEmpty() || id.length() > MAX_ID) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, null, "id: must be a string or number of 1 to " + MAX_ID
          + " characters");
    }
    return id;
  }

  private static String requiredString(JsonObject o, String key, String id) {
    JsonValue v = o.get(key);
    if (v == null || v == JsonValue.NULL) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, key + ": required");
    }
    if (!(v instanceof JsonString s)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, key + ": must be a string");
    }
    return s.getString();
  }

  private static boolean requiredBoolean(JsonObject o, String key, String id) {
    JsonValue v = o.get(key);
    if (v == null || v == JsonValue.NULL) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, key + ": required, true or false");
    }
    if (v != JsonValue.TRUE && v != JsonValue.FALSE) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, key + ": must be true or false");
    }
    return v == JsonValue.TRUE;
  }

  private static JsonObject object(JsonObject o, String key, String id) {
    JsonValue v = o.get(key);
    if (!(v instanceof JsonObject obj)) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, key + ": required, an object");
    }
    return obj;
  }

  private static long afterSeq(JsonObject o, String id) {
    JsonValue v = o.get("afterSeq");
    if (v == null || v == JsonValue.NULL) {
      return 0;
    }
    OptionalLong seq = v instanceof JsonNumber n ? StrictJson.wholeNumber(n, 0, Long.MAX_VALUE) : OptionalLong.empty();
    if (seq.isEmpty()) {
      throw new ProtocolException(ErrorCode.BAD_REQUEST, id, "afterSeq: must be a whole number, 0 or more");
    }
    return seq.getAsLong();
  }

  // ---- server frames ----

  public static String hello(String userId, int maxFrameBytes) {
    return JSON.createObjectBuilder().add("type", "hello").add("protocol", VERSION).add("userId", userId)
        .add("maxFrameBytes", maxFrameBytes).build().toString();
  }

  /** A reply to request {@code id}; {@code fields} adds the reply's data. */
  public static String reply(String id, JsonObjectBuilder fields) {
    return JSON.createObjectBuilder().add("type", "reply").add("id", id).addAll(fields).build().toString();
  }

  public static String event(JsonObject event) {
    return JSON.createObjectBuilder().add("type", "event").add("event", event).build().toString();
  }

  /** The {@code event} frame of an event already serialised: the same text as {@link #event(JsonObject)}. */
  static String event(String eventJson) {
    return new StringBuilder(eventJson.length() + 26).append("{\"type\":\"event\",\"event\":").append(eventJson)
        .append('}').toString();
  }

  /**
   * The {@code events} frame: several events of one agent, in seq order, in one message (for a connection that
   * asked for batches). The events' JSON is spliced as it was serialised once for all subscribers, not built again.
   */
  static String events(String agentId, List<String> eventJsons) {
    String agent = JSON.createValue(agentId).toString();
    int length = 40 + agent.length();
    for (String json : eventJsons) {
      length += json.length() + 1;
    }
    StringBuilder b = new StringBuilder(length).append("{\"type\":\"events\",\"agentId\":").append(agent)
        .append(",\"events\":[");
    for (int i = 0; i < eventJsons.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(eventJsons.get(i));
    }
    return b.append("]}").toString();
  }

  public static String error(String id, ErrorCode code, String message) {
    JsonObjectBuilder b = JSON.createObjectBuilder().add("type", "error");
    if (id == null) {
      b.addNull("id");
    } else {
      b.add("id", id);
    }
    return b.add("code", code.wire()).add("message", message).build().toString();
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
