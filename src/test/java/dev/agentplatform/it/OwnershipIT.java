package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A user sees and touches only their own agents: another user's agent is not_found, on WebSocket and REST alike. */
class OwnershipIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(Map.of());
  }

  @Test
  void userBCannotSeeOrTouchUserAsAgent() throws Exception {
    try (WsClient a = platform.connect("user-a"); WsClient b = platform.connect("user-b")) {
      String agent = ItSupport.createAgent(a, "private");
      var id = Json.createObjectBuilder().add("agentId", agent);

      assertFalse(b.call("agent.list").getJsonArray("agents").toString().contains(agent));
      assertEquals("not_found", b.call("agent.get", Json.createObjectBuilder().add("agentId", agent)).getString(
          "code"));
      assertEquals("not_found", b.call("send", Json.createObjectBuilder().add("agentId", agent).add("text", "hi"))
          .getString("code"));
      assertEquals("not_found", b.call("agent.update", Json.createObjectBuilder().add("agentId", agent)
          .add("changes", Json.createObjectBuilder().add("name", "mine"))).getString("code"));
      assertEquals("not_found", b.call("subscribe", Json.createObjectBuilder().add("agentId", agent)).getString(
          "code"));
      assertEquals("not_found", b.call("interrupt", Json.createObjectBuilder().add("agentId", agent)).getString(
          "code"));
      assertEquals("not_found", b.call("agent.delete", Json.createObjectBuilder().add("agentId", agent)).getString(
          "code"));

      for (String[] call : new String[][] {
          {"GET", "/api/agents/" + agent, null},
          {"PATCH", "/api/agents/" + agent, "{\"name\":\"mine\"}"},
          {"DELETE", "/api/agents/" + agent, null},
          {"GET", "/api/agents/" + agent + "/events", null},
          {"POST", "/api/agents/" + agent + "/messages", "{\"text\":\"hi\"}"},
          {"POST", "/api/agents/" + agent + "/interrupt", null}}) {
        HttpResponse<String> r = platform.call(call[0], call[1], "user-b", call[2]);
        assertEquals(404, r.statusCode(), call[0] + " " + call[1] + ": " + r.body());
        assertTrue(r.body().contains("\"code\":\"not_found\""), r.body());
      }
      assertFalse(platform.call("GET", "/api/agents", "user-b", null).body().contains(agent));

      JsonObject still = a.call("agent.get", id);
      assertEquals("private", still.getJsonObject("agent").getString("name"), "A's agent is untouched");
      assertTrue(platform.call("GET", "/api/agents", "user-a", null).body().contains(agent));
    }
  }

  @Test
  void theRestApiManagesAgentsWithTypedErrors() throws Exception {
    HttpResponse<String> created = platform.call("POST", "/api/agents", "user-r",
        "{\"name\":\"rest\",\"instructions\":\"Be terse.\",\"allowedTools\":[\"Write\"]}");
    assertEquals(201, created.statusCode(), created.body());
    String agent = Json.createReader(new java.io.StringReader(created.body())).readObject().getJsonObject("agent")
        .getString("id");
    HttpResponse<String> patched = platform.call("PATCH", "/api/agents/" + agent, "user-r", "{\"model\":\"opus\"}");
    assertTrue(patched.body().contains("\"model\":\"opus\""), patched.body());

    HttpResponse<String> bad = platform.call("POST", "/api/agents", "user-r", "{\"name\":");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("\"code\":\"bad_request\""), bad.body());
    assertEquals(400, platform.call("GET", "/api/agents/" + agent + "/events?limit=0", "user-r", null).statusCode());
    assertEquals(200, platform.call("GET", "/openapi", null, null).statusCode());

    assertEquals(204, platform.call("DELETE", "/api/agents/" + agent, "user-r", null).statusCode());
    assertEquals(404, platform.call("GET", "/api/agents/" + agent, "user-r", null).statusCode());
  }
}
