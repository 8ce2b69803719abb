package dev.agentplatform.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The built runner jar ({@code it.runner.jar}) started as a JVM of its own, as an agent pod runs it: with exactly the
 * environment given (and this machine's PATH), its stderr in a log file, and its first line (where it listens and as
 * whom the CLI runs) read before the tests go on.
 *
 * @param process the runner's JVM
 * @param listening the first line it printed ("runner listening on HOST:PORT, CLI as ...")
 */
public record RunnerProcess(Process process, String listening) {

  /** Starts the runner with {@code env} and waits (30 s at most) for the line that says where it listens. */
  public static RunnerProcess start(Map<String, String> env, List<String> arguments, Path log) throws Exception {
    return start(List.of(), env, arguments, log);
  }

  /**
   * Starts the runner as {@link #start(Map, List, Path)} does, through {@code prefix} (a command that ends by
   * exec'ing the rest, so the runner keeps its pid: e.g. {@code unshare} into a mount namespace of its own).
   */
  public static RunnerProcess start(List<String> prefix, Map<String, String> env, List<String> arguments, Path log)
      throws Exception {
    Path jar = Path.of(System.getProperty("it.runner.jar"));
    assertTrue(Files.isRegularFile(jar), "the runner jar was built: " + jar);
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(javaCommand(), "-jar", jar.toString()));
    command.addAll(arguments);
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv("PATH"));
    builder.environment().putAll(env);
    Process p = builder.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        return null;
      }
    }).get(30, TimeUnit.SECONDS);
    assertNotNull(line, "the runner said where it listens; its log: " + log);
    return new RunnerProcess(p, line);
  }

  /** The java executable of this JVM, for a runner started from a test. */
  public static String javaCommand() {
    return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
  }

  /**
   * Stops the runner (its shutdown hook kills the CLI's tree), forcibly after 10 s, and then whatever was under it
   * when the stop began.
   */
  public void stop() throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    tree.forEach(ProcessHandle::destroyForcibly);
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
