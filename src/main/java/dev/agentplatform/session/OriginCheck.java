package dev.agentplatform.session;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whose pages may open the WebSocket: a request without {@code Origin} (a program, not a browser), a page of the
 * platform's own origin (the Origin's host and port are the request's {@code Host}), or an origin listed exactly
 * in {@code ALLOWED_ORIGINS}. Anything else, {@code null} included, is a page of another site.
 */
final class OriginCheck {

  private final Set<String> allowed;

  OriginCheck(List<String> allowedOrigins) {
    this.allowed = allowedOrigins.stream().map(OriginCheck::normalize).filter(s -> s != null)
        .collect(Collectors.toUnmodifiableSet());
  }

  /** Whether a handshake with this {@code Origin} (null: absent) and {@code Host} header may go on. */
  boolean allows(String origin, String host) {
    if (origin == null) {
      return true;
    }
    String normal = normalize(origin);
    if (normal == null) {
      return false;
    }
    if (allowed.contains(normal)) {
      return true;
    }
    if (host == null || host.isBlank()) {
      return false;
    }
    String scheme = normal.substring(0, normal.indexOf(':'));
    String authority = normal.substring(normal.indexOf("//") + 2);
    return authority.equals(withoutDefaultPort(scheme, host.trim().toLowerCase(Locale.ROOT)));
  }

  /**
   * {@code scheme://host[:port]} in lower case without a default port, or null for what is not such an origin
   * (a path, user info, {@code null}, another scheme).
   */
  static String normalize(String origin) {
    String o = origin.trim();
    if (o.endsWith("/")) {
      o = o.substring(0, o.length() - 1);
    }
    URI uri;
    try {
      uri = new URI(o);
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!("http".equals(scheme) || "https".equals(scheme)) || uri.getHost() == null || uri.getRawUserInfo() != null
        || (uri.getRawPath() != null && !uri.getRawPath().isEmpty()) || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      return null;
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    int port = uri.getPort();
    return scheme + "://" + withoutDefaultPort(scheme, port < 0 ? host : host + ":" + port);
  }

  private static String withoutDefaultPort(String scheme, String authority) {
    String defaultPort = "https".equals(scheme) ? ":443" : ":80";
    return authority.endsWith(defaultPort) ? authority.substring(0, authority.length() - defaultPort.length())
        : authority;
  }
}
