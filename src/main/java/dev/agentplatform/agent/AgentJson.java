package dev.agentplatform.agent;

import dev.agentplatform.error.PlatformException;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The JSON form of agents for clients (WebSocket and REST alike), and the reading of drafts and changes. */
public final class AgentJson {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  private static final Set<String> FIELDS = Set.of("name", "instructions", "model", "allowedTools");

  private AgentJson() {
  }

  public static JsonObject toJson(Agent a) {
    JsonArrayBuilder tools = JSON.createArrayBuilder();
    a.allowedTools().forEach(tools::add);
    return JSON.createObjectBuilder()
        .add("id", a.id())
        .add("name", a.name())
        .add("instructions", a.instructions())
        .add("model", a.model())
        .add("allowedTools", tools)
        .add("status", a.status().wire())
        .add("createdAt", a.createdAt().toString())
        .add("updatedAt", a.updatedAt().toString())
        .build();
  }

  /** Reads {@code {"name":..,"instructions":..,"model":..,"allowedTools":[..]}}; wrong types are bad requests. */
  public static AgentDraft draft(JsonObject o, String where) {
    checkFields(o, where);
    return new AgentDraft(string(o, "name", where), string(o, "instructions", where), string(o, "model", where),
        tools(o, where));
  }

  /** Reads a partial agent: only the fields present change. */
  public static AgentChanges changes(JsonObject o, String where) {
    checkFields(o, where);
    return new AgentChanges(string(o, "name", where), string(o, "instructions", where), string(o, "model", where),
        tools(o, where));
  }

  private static void checkFields(JsonObject o, String where) {
    for (String key : o.keySet()) {
      if (!FIELDS.contains(key)) {
        throw PlatformException.badRequest(where + "." + key + ": unknown field (known: name, instructions, model,"
            + " allowedTools)");
      }
    }
  }

  private static String string(JsonObject o, String key, String where) {
    JsonValue v = o.get(key);
    if (v == null || v == JsonValue.NULL) {
      return null;
    }
    if (v instanceof JsonString s) {
      return s.getString();
    }
    throw PlatformException.badRequest(where + "." + key + ": must be a string");
  }

  private static List<String> tools(JsonObject o, String where) {
    JsonValue v = o.get("allowedTools");
    if (v == null || v == JsonValue.NULL) {
      return null;
    }
    if (!(v instanceof JsonArray array)) {
      throw PlatformException.badRequest(where + ".allowedTools: must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonValue item : array) {
      if (!(item instanceof JsonString s)) {
        throw PlatformException.badRequest(where + ".allowedTools: must be an array of strings");
      }
      out.add(s.getString());
    }
    return out;
  }
}
