package dev.agentplatform.api;

import dev.agentplatform.error.ErrorCode;
import jakarta.json.Json;
import jakarta.json.spi.JsonProvider;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The error page (web.xml) of whatever the container answers itself, before JAX-RS: under {@code /api} the same
 * {@code {"code":..,"message":..}} body as the API's own errors, elsewhere one line of text; never a stack trace
 * or a server's HTML page.
 */
@WebServlet(urlPatterns = ErrorPages.PATH)
public class ErrorPages extends HttpServlet {
  /** Looked up once: each {@code Json.create...} call looks the provider up again (a class-loader scan). */
  private static final JsonProvider JSON = JsonProvider.provider();

  static final String PATH = "/error-page";

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Object statusAttr = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    int status = statusAttr instanceof Integer i ? i : HttpServletResponse.SC_NOT_FOUND;
    Object uriAttr = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
    String uri = uriAttr == null ? "" : uriAttr.toString();
    write(response, status, uri.startsWith("/api/") || uri.equals("/api"));
  }

  /** Answers {@code status} as JSON ({@code api}) or as one line of text. */
  static void write(HttpServletResponse response, int status, boolean api) throws IOException {
    ErrorCode code = codeOf(status);
    String message = messageOf(status);
    response.setStatus(status);
    response.setCharacterEncoding(StandardCharsets.UTF_8.name());
    if (api) {
      response.setContentType("application/json");
      response.getWriter().write(JSON.createObjectBuilder().add("code", code.wire()).add("message", message).build()
          .toString());
    } else {
      response.setContentType("text/plain");
      response.getWriter().write(status + " " + message + "\n");
    }
  }

  static ErrorCode codeOf(int status) {
    if (status == 401) {
      return ErrorCode.UNAUTHENTICATED;
    } else if (status == 404 || status == 405) {
      return ErrorCode.NOT_FOUND;
    } else if (status == 413) {
      return ErrorCode.TOO_LARGE;
    } else if (status == 503) {
      return ErrorCode.UNAVAILABLE;
    } else if (status >= 500) {
      return ErrorCode.INTERNAL;
    }
    return ErrorCode.BAD_REQUEST;
  }

  private static String messageOf(int status) {
    return switch (status) {
      case 400 -> "the request is malformed (a path with encoded '/', '.', '\\' or '#' is refused)";
      case 404 -> "no such resource";
      case 405 -> "this method is not allowed here";
      case 413 -> "the request is too large";
      case 415 -> "unsupported media type";
      default -> status >= 500 ? "internal error; the server log has the details" : "the request was refused";
    };
  }
}
