package dev.agentplatform.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;

/**
 * The agent pod's command: reads its configuration and the pod's secret, checks that the CLI it will start cannot
 * read that secret, gives the CLI its workspace, and serves until it is stopped (then it kills the CLI's process tree).
 */
public final class Main {

  /**
   * The JDK server's limits, set before it starts (it reads them once), each unless the JVM was given its own
   * ({@code -Dname=value}): a request's headers and body arrive within 30 s of its first byte (a status wait or a
   * stream is past that: the limit ends with the request's body), at most 32 headers of 16 KiB in all, and a refused
   * request's body is not read at all (the connection is closed instead). Not {@code maxRspTime}: a stream lasts.
   */
  static final Map<String, String> HTTP_LIMITS = Map.of("sun.net.httpserver.maxReqTime", "30",
      "sun.net.httpserver.maxReqHeaders", "32", "sun.net.httpserver.maxReqHeaderSize", "16384",
      "sun.net.httpserver.drainAmount", "0");

  private Main() {
  }

  public static void main(String[] args) throws IOException {
    HTTP_LIMITS.forEach((name, value) -> {
      if (System.getProperty(name) == null) {
        System.setProperty(name, value);
      }
    });
    RunnerConfig config;
    try {
      config = RunnerConfig.from(System.getenv(), args);
    } catch (IllegalArgumentException e) {
      System.err.println("runner: " + e.getMessage());
      System.exit(2);
      return;
    }
    byte[] secret = Files.readString(config.secretFile(), StandardCharsets.UTF_8).strip()
        .getBytes(StandardCharsets.UTF_8);
    if (secret.length == 0) {
      System.err.println("runner: the secret file " + config.secretFile() + " is empty");
      System.exit(2);
    }
    int uid = CliUser.effectiveUid();
    CliUser cliUser = CliUser.resolve(config.cliUser(), uid);
    if (cliUser != null) {
      String readable = cliUser.canRead(config.secretFile());
      if (readable != null) {
        System.err.println("runner: the CLI (uid " + cliUser.uid() + ") could read the secret file "
            + config.secretFile() + ": " + readable + "; refusing to start");
        System.exit(2);
      }
      try {
        if (cliUser.own(config.workspace())) {
          System.err.println("runner: gave the workspace " + config.workspace() + " to the CLI's uid " + cliUser.uid()
              + " gid " + cliUser.gid());
        }
      } catch (IOException e) {
        System.err.println("runner: the workspace " + config.workspace() + " is not the CLI's (uid " + cliUser.uid()
            + ") and could not be given to it (the runner needs the CHOWN capability): " + e.getMessage());
        System.exit(2);
      }
    } else if (!config.cliUser().trim().equals("none")) {
      // auto, and the runner is not root: the CLI would run as the runner's own uid, read the secret file and attach
      // to this JVM. Only an explicit RUNNER_CLI_USER=none (a laptop, a test) accepts that.
      System.err.println("runner: the CLI would run as the runner's own uid " + uid + " and could read the secret file"
          + " and this process; run the runner as root with SETUID and SETGID, or set RUNNER_CLI_USER=none to accept"
          + " it; refusing to start");
      System.exit(2);
    } else {
      System.err.println("runner: warning: RUNNER_CLI_USER=none: the CLI runs as the runner's own uid " + uid
          + " and can read the secret file");
    }
    RunnerServer server = RunnerServer.start(config, secret, cliUser);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "runner-shutdown"));
    System.out.println("runner listening on " + server.host() + ":" + server.port() + ", CLI as "
        + (cliUser == null ? "uid " + uid : "uid " + cliUser.uid() + " gid " + cliUser.gid()));
    System.out.flush();
  }
}
