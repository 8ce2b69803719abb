package dev.agentplatform.session;

import dev.agentplatform.auth.Identity;
import dev.agentplatform.error.PlatformException;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.util.List;
import java.util.Map;

/**
 * Tells the user of a WebSocket at its handshake (the only moment the request headers are visible) and hands it
 * to the session through its user properties.
 */
public class IdentityConfigurator extends ServerEndpointConfig.Configurator {

  static final String USER = "agent-platform.user";
  static final String DENIED = "agent-platform.denied";

  @Override
  public void modifyHandshake(ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
    Map<String, List<String>> headers = request.getHeaders();
    Map<String, Object> props = config.getUserProperties();
    props.remove(USER);
    props.remove(DENIED);
    try {
      String user = CDI.current().select(Identity.class).get().userId(name -> header(headers, name));
      props.put(USER, user);
    } catch (PlatformException e) {
      props.put(DENIED, e.getMessage());
    }
  }

  private static String header(Map<String, List<String>> headers, String name) {
    for (Map.Entry<String, List<String>> e : headers.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
        return e.getValue().get(0);
      }
    }
    return null;
  }
}
