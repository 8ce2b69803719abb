package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.agentplatform.testing.Platform;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.List;

/** Reads an agent's whole history through the REST API. */
final class ConversationITHistory {

  private ConversationITHistory() {
  }

  static List<JsonObject> of(Platform platform, String user, String agent) throws Exception {
    var response = platform.call("GET", "/api/agents/" + agent + "/events?limit=1000", user, null);
    assertEquals(200, response.statusCode(), response.body());
    return Json.createReader(new StringReader(response.body())).readObject().getJsonArray("events")
        .getValuesAs(JsonValue::asJsonObject);
  }
}
