package dev.agentplatform.auth;

import dev.agentplatform.config.PlatformConfig;
import dev.agentplatform.error.ErrorCode;
import dev.agentplatform.error.PlatformException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The identity of a local run (one configured user) or of a deployment behind a trusted proxy that names
 * the user in a header.
 */
@ApplicationScoped
public class ConfiguredIdentity implements Identity {

  /** A user id is what a proxy or an identity provider would set: no spaces, no control characters. */
  private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9._@:+\\-]{1,200}");

  @Inject
  PlatformConfig config;

  @Override
  public String userId(Function<String, String> header) {
    if ("header".equals(config.authMode())) {
      String value = header.apply(config.authUserHeader());
      if (value == null || value.isBlank()) {
        throw new PlatformException(ErrorCode.UNAUTHENTICATED,
            "no user: the request lacks the " + config.authUserHeader() + " header set by the trusted proxy");
      }
      String user = value.trim();
      if (!USER_ID.matcher(user).matches()) {
        throw new PlatformException(ErrorCode.UNAUTHENTICATED,
            "the " + config.authUserHeader() + " header does not hold a valid user id");
      }
      return user;
    }
    return config.authDefaultUser();
  }
}
