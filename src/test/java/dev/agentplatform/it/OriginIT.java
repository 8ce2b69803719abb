package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.RawWebSocket;
import dev.agentplatform.testing.WsClient;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cross-site WebSocket hijacking: a page of another site gets HTTP 403 at the handshake, whatever it looks like;
 * the platform's own page, an origin in ALLOWED_ORIGINS and programs (no Origin) get the WebSocket.
 */
class OriginIT {

  static Platform platform;

  @BeforeAll
  static void start() throws Exception {
    platform = Platform.with(java.util.Map.of());
  }

  private static RawWebSocket open(String origin) throws Exception {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-User", "origin-user");
    if (origin != null) {
      headers.put("Origin", origin);
    }
    return RawWebSocket.open(platform.httpPort(), headers);
  }

  @Test
  void pagesOfOtherSitesAreRefusedBeforeTheUpgrade() throws Exception {
    int port = platform.httpPort();
    for (String origin : new String[] {"http://evil.example", "null", "http://127.0.0.1.evil.example",
        "http://127.0.0.1.evil.example:" + port, "http://127.0.0.1:" + (port == 65535 ? port - 1 : port + 1),
        "https://127.0.0.1:" + port + ".evil.example", "http://localhost:" + port, "https://console.example.com.evil",
        "http://console.example.com", "file://"}) {
      try (RawWebSocket ws = open(origin)) {
        assertEquals(403, ws.status(), origin);
      }
    }
  }

  @Test
  void theOwnOriginAnAllowedOneAndProgramsGetTheWebSocket() throws Exception {
    for (String origin : new String[] {null, "http://127.0.0.1:" + platform.httpPort(), Platform.ALLOWED_ORIGIN}) {
      try (RawWebSocket ws = open(origin)) {
        assertEquals(101, ws.status(), String.valueOf(origin));
        assertTrue(ws.readText(WsClient.WAIT).contains("\"userId\":\"origin-user\""), String.valueOf(origin));
        ws.sendText("{\"type\":\"ping\",\"id\":\"p\"}");
        assertTrue(ws.readText(WsClient.WAIT).contains("\"pong\":true"), String.valueOf(origin));
      }
    }
  }

  @Test
  void everyPageAndApiResponseCarriesTheSecurityHeaders() throws Exception {
    for (String path : new String[] {"/", "/app/main.js", "/api/agents", "/no-such-page"}) {
      HttpResponse<String> r = platform.call("GET", path, "origin-user", null);
      String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
      assertTrue(csp.contains("connect-src 'self';"), path + ": " + csp);
      assertTrue(csp.contains("frame-ancestors 'none'"), path + ": " + csp);
      assertTrue(!csp.contains("ws:") && !csp.contains("wss:"), path + ": " + csp);
      assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""), path);
      assertEquals("no-referrer", r.headers().firstValue("Referrer-Policy").orElse(""), path);
    }
  }
}
