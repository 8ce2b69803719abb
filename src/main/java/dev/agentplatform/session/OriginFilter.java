package dev.agentplatform.session;

import dev.agentplatform.config.PlatformConfig;
import jakarta.inject.Inject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.logging.Logger;

/**
 * Refuses, with HTTP 403 before the upgrade, a WebSocket handshake from a page of another site (cross-site
 * WebSocket hijacking: a browser sends the user's cookies and network position along with any page's request).
 * A filter, not the endpoint configurator's {@code checkOrigin}, because only here the {@code Host} is visible.
 */
@WebFilter(urlPatterns = "/ws")
public class OriginFilter extends HttpFilter {

  private static final Logger LOG = Logger.getLogger(OriginFilter.class.getName());

  @Inject
  PlatformConfig config;

  private volatile OriginCheck check;

  @Override
  protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (check == null) {
      check = new OriginCheck(config.allowedOrigins());
    }
    String origin = request.getHeader("Origin");
    if (!check.allows(origin, request.getHeader("Host"))) {
      LOG.info(() -> "refused a WebSocket handshake from origin " + printable(origin) + " (not this platform's"
          + " origin nor in ALLOWED_ORIGINS)");
      response.setStatus(HttpServletResponse.SC_FORBIDDEN);
      response.setContentType("application/json");
      response.getWriter().write("{\"code\":\"forbidden\",\"message\":\"pages of this origin may not open"
          + " the WebSocket; list it in ALLOWED_ORIGINS\"}");
      return;
    }
    chain.doFilter(request, response);
  }

  /** An attacker chooses the header: at most 100 printable ASCII characters reach the log line. */
  private static String printable(String s) {
    String cut = s.length() > 100 ? s.substring(0, 100) + "..." : s;
    return "'" + cut.replaceAll("[^\\x20-\\x7e]", "?") + "'";
  }
}
