package dev.agentplatform.session;

import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;

/** A frame that could not be decoded; carries the request id when the frame had a readable one. */
public class ProtocolException extends PlatformException {

  private final String requestId;

  public ProtocolException(ErrorCode code, String requestId, String message) {
    super(code, message);
    this.requestId = requestId;
  }

  public String requestId() {
    return requestId;
  }
}
