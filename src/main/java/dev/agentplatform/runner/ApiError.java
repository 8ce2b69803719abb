package dev.agentplatform.runner;

import java.util.Map;

/** A request the runner refuses: the HTTP status and the typed JSON error the client gets. */
final class ApiError extends Exception {
  private static final long serialVersionUID = 1L;

  final int status;
  final String code;
  final transient Map<String, Object> extra;

  ApiError(int status, String code, String message) {
    this(status, code, message, Map.of());
  }

  ApiError(int status, String code, String message, Map<String, Object> extra) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}
