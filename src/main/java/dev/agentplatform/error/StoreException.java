package dev.agentplatform.error;

/** The store could not do what was asked (unreachable, refused, or a conflicting write). */
public class StoreException extends PlatformException {

  public StoreException(String message, Throwable cause) {
    super(ErrorCode.UNAVAILABLE, message, cause);
  }
}
