package dev.agentplatform.runtime.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The agent image's Containerfile, its local equivalent and the platform's default image all pin the CLI version
 * the build pins (pom.xml), and the image runs as a non-root user. (No registry here: the Containerfile itself is
 * built only where one is reachable.)
 */
class AgentImageTest {

  private static final Path BASE = Path.of(System.getProperty("project.basedir", "."));
  private static final String VERSION = System.getProperty("claude.cli.version");

  @Test
  void theContainerfilePinsTheBuildsCliVersion() throws Exception {
    String file = Files.readString(BASE.resolve("containers/agent/Containerfile"));
    Matcher m = Pattern.compile("(?m)^ARG CLAUDE_CODE_VERSION=(\\S+)$").matcher(file);
    assertTrue(m.find(), "an ARG CLAUDE_CODE_VERSION with a default");
    assertEquals(VERSION, m.group(1), "containers/agent/Containerfile and pom.xml (claude.cli.version) agree");
    assertTrue(file.contains("npm install") && file.contains("@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"),
        "the CLI comes from npm at that version");
  }

  @Test
  void theImageRunsAsANonRootUserInItsWorkspace() throws Exception {
    String file = Files.readString(BASE.resolve("containers/agent/Containerfile"));
    Matcher user = Pattern.compile("(?m)^USER (\\S+)$").matcher(file);
    assertTrue(user.find(), "a USER line");
    assertTrue(!user.group(1).startsWith("0") && !user.group(1).startsWith("root"), user.group(1));
    assertTrue(file.contains("WORKDIR /workspace"));
    String local = Files.readString(BASE.resolve("containers/agent/build-local"));
    assertTrue(local.contains("\"USER " + user.group(1) + "\""), "the local build uses the same user");
    assertTrue(local.contains("\"WORKDIR /workspace\""), "and the same workspace");
  }

  @Test
  void theDefaultImageIsTheOneForThePinnedCli() throws Exception {
    Properties defaults = new Properties();
    try (var in = getClass().getResourceAsStream("/META-INF/microprofile-config.properties")) {
      defaults.load(in);
    }
    assertEquals("agent-platform-agent:" + VERSION, defaults.getProperty("DOCKER_IMAGE"));
  }
}
