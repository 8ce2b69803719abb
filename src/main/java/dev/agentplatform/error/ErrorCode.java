package dev.agentplatform.error;

import java.util.Locale;

/** The typed error codes a client can receive, on the WebSocket and in REST error bodies. */
public enum ErrorCode {
  BAD_REQUEST(400),
  UNAUTHENTICATED(401),
  NOT_FOUND(404),
  BUSY(409),
  TOO_LARGE(413),
  UNAVAILABLE(503),
  INTERNAL(500);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** The code as it appears on the wire, e.g. {@code bad_request}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
