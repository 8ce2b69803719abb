package dev.agentplatform.application;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of package-info.java, checked on the sources: the application service knows neither front
 * door, and the front doors reach agents and conversations only through it.
 */
class FrontDoorDependenciesTest {

  private static final Path MAIN = Path.of("src/main/java/dev/agentplatform");

  private static List<String> offending(String pkg, List<String> forbidden) throws IOException {
    try (Stream<Path> files = Files.list(MAIN.resolve(pkg))) {
      return files.filter(f -> f.toString().endsWith(".java")).flatMap(f -> {
        try {
          return Files.readAllLines(f).stream().filter(l -> l.startsWith("import "))
              .filter(l -> forbidden.stream().anyMatch(l::contains)).map(l -> f.getFileName() + ": " + l);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList();
    }
  }

  @Test
  void theApplicationServiceKnowsNeitherFrontDoor() throws IOException {
    assertEquals(List.of(), offending("application", List.of("dev.agentplatform.session.", "dev.agentplatform.api.")));
  }

  @Test
  void theFrontDoorsGoThroughTheApplicationService() throws IOException {
    List<String> services = List.of("dev.agentplatform.agent.AgentService;",
        "dev.agentplatform.conversation.ConversationService;", "dev.agentplatform.store.");
    assertEquals(List.of(), offending("session", services));
    assertEquals(List.of(), offending("api", services));
  }
}
