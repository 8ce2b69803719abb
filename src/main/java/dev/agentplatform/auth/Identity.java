package dev.agentplatform.auth;

import java.util.function.Function;

/**
 * Says which user a connection or request belongs to; the one seam where JWT or OIDC sign-in will plug in.
 */
public interface Identity {

  /**
   * The user id for a request, given a way to read its headers (case-insensitive names).
   *
   * @throws dev.agentplatform.error.PlatformException with {@code unauthenticated} when no user can be told
   */
  String userId(Function<String, String> header);
}
