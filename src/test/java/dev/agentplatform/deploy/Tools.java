package dev.agentplatform.deploy;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The two programs the manifest checks run, each as an argument list: {@code kubectl kustomize} renders a
 * kustomization, and {@code node validate.mjs} (src/test/manifests) checks objects against the API schemas.
 */
final class Tools {

  private static final long TIMEOUT_SECONDS = 120;

  private Tools() {
  }

  /** kubectl on the PATH; a clear failure when it is missing (it comes with these machines: docs/operations.md). */
  static Path kubectl() {
    return onPath("kubectl", "kubectl (with its built-in kustomize) is not on the PATH; the manifest tests render"
        + " kubernetes/ with it (scripts/test checks it is there)");
  }

  /** The objects {@code kubectl kustomize dir} renders, in its order. */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> render(Path dir) {
    String yaml = run(List.of(kubectl().toString(), "kustomize", dir.toString()), null);
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
      if (doc != null) {
        objects.add((Map<String, Object>) doc);
      }
    }
    return objects;
  }

  /** One schema verdict: the object's kind and name, and what is wrong with it (empty when nothing). */
  record SchemaResult(String kind, String name, List<String> errors) {
  }

  /** Checks each object against its API schema with {@code validate.mjs}; one result per object, in order. */
  static List<SchemaResult> validateSchemas(Path manifestsDir, List<Map<String, Object>> objects) {
    if (!Files.isDirectory(manifestsDir.resolve("node_modules/kubernetes-models"))) {
      throw new IllegalStateException(manifestsDir + "/node_modules is missing: the build installs it"
          + " (scripts/npm-ci-once " + manifestsDir + ", in generate-test-resources)");
    }
    Path node = onPath("node", "node (Node.js) is not on the PATH; the schema check runs with it");
    String input = Json.createArrayBuilder(List.copyOf(objects)).build().toString();
    String output = run(List.of(node.toString(), manifestsDir.resolve("validate.mjs").toString()), input);
    List<SchemaResult> results = new ArrayList<>();
    try (JsonReader reader = Json.createReader(new StringReader(output))) {
      JsonArray array = reader.readArray();
      for (JsonObject r : array.getValuesAs(JsonObject.class)) {
        results.add(new SchemaResult(r.getString("kind"), r.getString("name"), r.getJsonArray("errors")
            .getValuesAs(JsonString.class).stream().map(JsonString::getString).toList()));
      }
    }
    if (results.size() != objects.size()) {
      throw new IllegalStateException("validate.mjs judged " + results.size() + " of " + objects.size() + " objects");
    }
    return results;
  }

  private static Path onPath(String name, String whenMissing) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(whenMissing);
  }

  /** Runs a command (stdin: {@code input}, or nothing), and returns its standard output; fails on a non-zero exit. */
  private static String run(List<String> command, String input) {
    try {
      Path err = Files.createTempFile("manifests-", ".stderr");
      try {
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        try (OutputStream in = p.getOutputStream()) {
          if (input != null) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
          }
        }
        String out;
        try (InputStream stdout = p.getInputStream()) {
          out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException(command + " took longer than " + TIMEOUT_SECONDS + " s");
        }
        if (p.exitValue() != 0) {
          throw new IllegalStateException(command + " exited with " + p.exitValue() + ": " + Files.readString(err));
        }
        return out;
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
