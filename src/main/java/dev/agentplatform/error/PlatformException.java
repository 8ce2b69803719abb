package dev.agentplatform.error;

/** An expected failure with a typed code and a message meant for the user who caused it. */
public class PlatformException extends RuntimeException {

  private final ErrorCode code;

  public PlatformException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public PlatformException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public static PlatformException badRequest(String message) {
    return new PlatformException(ErrorCode.BAD_REQUEST, message);
  }

  public static PlatformException notFound(String message) {
    return new PlatformException(ErrorCode.NOT_FOUND, message);
  }

  public static PlatformException unavailable(String message, Throwable cause) {
    return new PlatformException(ErrorCode.UNAVAILABLE, message, cause);
  }
}
