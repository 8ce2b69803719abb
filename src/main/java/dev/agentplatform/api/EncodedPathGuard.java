package dev.agentplatform.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;

/**
 * Refuses a path holding an encoded {@code /}, {@code .}, {@code \} or {@code #} ({@code /api/agents/..%2Fetc})
 * with a typed 400. Liberty's own check (turned off in server.xml, {@code skipEncodedCharVerification}) refused the
 * same paths, but with an HTML page and a stack trace in the log for every such request.
 */
@WebFilter(urlPatterns = "/*")
public class EncodedPathGuard extends HttpFilter {

  @Override
  protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    String raw = request.getRequestURI();
    if (raw != null && hasEncodedSeparator(raw)) {
      String path = raw.substring(request.getContextPath().length());
      ErrorPages.write(response, HttpServletResponse.SC_BAD_REQUEST, path.startsWith("/api/") || path.equals("/api"));
      return;
    }
    chain.doFilter(request, response);
  }

  static boolean hasEncodedSeparator(String rawPath) {
    String p = rawPath.toLowerCase(Locale.ROOT);
    return p.contains("%2f") || p.contains("%2e") || p.contains("%5c") || p.contains("%23");
  }
}
