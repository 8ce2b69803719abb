package dev.agentplatform.runtime.process;

import dev.agentplatform.config.Secrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How the process runtime starts CLIs.
 *
 * @param cli the CLI as configured: a path, or a name looked up on PATH
 * @param runAsUid the user to run the CLI as when the server runs as root (-1: never switch)
 * @param environment what the CLI sees besides HOME, PATH and its config directory (API key, base URL, ...)
 * @param secrets values that must never show in logs or events (blotted out of the CLI's error output)
 * @param credentialsHint what to set when no credentials are configured, or null when they are
 * @param platformDirs the platform's own directories on the way to the workspaces (the data directory), which
 *     the CLI's user must be able to traverse
 * @param sandbox whether each CLI runs in a bubblewrap sandbox of its own (SANDBOX)
 * @param bwrap the bubblewrap executable: a path, or a name looked up on PATH
 * @param unsandboxedAllowedBecause why agents may run without a sandbox (one user by construction, or
 *     ALLOW_UNSANDBOXED_USERS), or null when they may not
 */
public record ProcessSettings(
    String cli,
    Path workspaceRoot,
    String permissionMode,
    int runAsUid,
    int runAsGid,
    Duration idleTimeout,
    long outputLimitBytes,
    Map<String, String> environment,
    Secrets secrets,
    String credentialsHint,
    List<Path> platformDirs,
    SandboxMode sandbox,
    String bwrap,
    String unsandboxedAllowedBecause) {

  public ProcessSettings {
    platformDirs = List.copyOf(platformDirs);
    environment = Map.copyOf(environment);
  }

  /** The SANDBOX setting: bubblewrap when it runs here, bubblewrap or nothing at all, or none. */
  public enum SandboxMode {
    AUTO, BUBBLEWRAP, NONE;

    /** The setting's value as written in the configuration. */
    public String key() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
