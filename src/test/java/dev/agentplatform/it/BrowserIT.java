package dev.agentplatform.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.testing.Platform;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the browser client's end-to-end tests (src/test/e2e, Node's test runner with playwright-core) in Debian's
 * headless Chromium against the started platform, and the unit tests of its WebSocket client (reconnection); the
 * screenshots land in target/screenshots.
 */
class BrowserIT {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void theBrowserClientPassesItsEndToEndTests() throws Exception {
    assertTrue(Files.isExecutable(CHROMIUM), "Debian's chromium is needed at " + CHROMIUM
        + " (apt-get install chromium; .ci/run installs it)");
    Platform platform = Platform.with(java.util.Map.of());
    Path e2e = Path.of(System.getProperty("it.e2e.dir", "src/test/e2e")).toAbsolutePath();
    Path shots = Path.of(System.getProperty("it.screenshot.dir", "target/screenshots")).toAbsolutePath();
    Path log = Path.of(System.getProperty("it.work.dir", "target/it")).resolve("e2e.log").toAbsolutePath();
    ProcessBuilder node = new ProcessBuilder("node", "--test", "--test-reporter=spec", "--test-concurrency=1",
        "browser.test.mjs", "connection.test.mjs").directory(e2e.toFile()).redirectErrorStream(true).redirectOutput(log
            .toFile());
    node.environment().put("BASE_URL", platform.http("").toString().replaceAll("/$", ""));
    node.environment().put("USER_HEADER", "X-User");
    node.environment().put("SCREENSHOT_DIR", shots.toString());
    node.environment().put("CHROMIUM", CHROMIUM.toString());
    Process p = node.start();
    boolean done = p.waitFor(10, TimeUnit.MINUTES);
    if (!done) {
      p.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(output);
    assertTrue(done, "the end-to-end tests did not finish within 10 minutes");
    assertEquals(0, p.exitValue(), "end-to-end tests failed:\n" + output);
    for (String shot : new String[] {"conversation.png", "agents.png", "narrow.png"}) {
      assertTrue(Files.size(shots.resolve(shot)) > 10_000, shot + " was written");
    }
  }
}
