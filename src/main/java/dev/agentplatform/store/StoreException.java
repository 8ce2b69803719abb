package dev.agentplatform.store;

import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;

/** The store could not do what was asked (unreachable, refused, or a conflicting write). */
public class StoreException extends PlatformException {

  public StoreException(String message, Throwable cause) {
    super(ErrorCode.UNAVAILABLE, message, cause);
  }
}
