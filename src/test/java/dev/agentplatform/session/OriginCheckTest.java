package dev.agentplatform.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A page may open the WebSocket only from the platform's own origin or an exactly listed one; programs always. */
class OriginCheckTest {

  private final OriginCheck check = new OriginCheck(List.of("https://console.example.com",
      " http://tool.example:8443/ "));

  @Test
  void theOwnOriginListedOnesAndProgramsMayConnect() {
    assertTrue(check.allows(null, "localhost:9080"), "no Origin: a program");
    assertTrue(check.allows("http://localhost:9080", "localhost:9080"));
    assertTrue(check.allows("http://LOCALHOST:9080", "localhost:9080"));
    assertTrue(check.allows("https://agents.example.com", "agents.example.com"), "behind a TLS load balancer");
    assertTrue(check.allows("https://agents.example.com:443", "agents.example.com"));
    assertTrue(check.allows("http://agents.example.com", "agents.example.com:80"));
    assertTrue(check.allows("https://console.example.com", "agents.example.com"));
    assertTrue(check.allows("http://tool.example:8443", "localhost:9080"));
  }

  @Test
  void otherSitesLookAlikesAndNullAreRefused() {
    for (String origin : new String[] {"http://evil.example", "null", "http://localhost.evil.example",
        "http://localhost.evil.example:9080", "http://localhost:9081", "http://localhost", "https://localhost:9080x",
        "ws://localhost:9080", "file://", "http://user@localhost:9080", "http://localhost:9080/path",
        "https://console.example.com.evil.example", "http://console.example.com", "http://tool.example:8444", "",
        "http://[::1", "javascript:alert(1)"}) {
      assertFalse(check.allows(origin, "localhost:9080"), origin);
    }
    assertFalse(check.allows("http://localhost:9080", null), "no Host to compare with");
  }
}
