package dev.agentplatform.image;

import jakarta.json.Json;
import jakarta.json.JsonString;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What an image declares about itself, read from a Containerfile (its last stage) or from the {@code changes} that
 * containers/server/build-local gives the Engine's import: the base image, the build arguments' defaults, the user,
 * the ports, the environment, the labels and the command.
 */
record ImageDeclaration(String from, Map<String, String> args, String user, Set<String> ports, Map<String, String> env,
    Map<String, String> labels, List<String> cmd) {

  /** Reads a Containerfile: the global ARGs and the instructions of its last stage. */
  static ImageDeclaration ofContainerfile(String text) {
    Builder b = new Builder();
    for (String instruction : instructions(text)) {
      String[] parts = instruction.split("\\s+", 2);
      String keyword = parts[0].toUpperCase(Locale.ROOT);
      String rest = parts.length > 1 ? parts[1].strip() : "";
      if (keyword.equals("FROM")) {
        b.from = rest.split("\\s+")[0];
        b.startStage();
      } else {
        b.apply(keyword, rest);
      }
    }
    return b.build();
  }

  /**
   * Reads build-local: the Dockerfile instructions in its {@code changes=( ... )} array, one bash string a line (those
   * that bash would expand, the build's own labels, are added later in the script with {@code changes+=}).
   */
  static ImageDeclaration ofLocalBuilder(String script) {
    Builder b = new Builder();
    boolean inside = false;
    for (String line : script.lines().toList()) {
      String t = line.strip();
      if (!inside) {
        inside = t.equals("changes=(");
        continue;
      }
      if (t.equals(")")) {
        break;
      }
      String instruction = bashString(t);
      String[] parts = instruction.split("\\s+", 2);
      b.apply(parts[0].toUpperCase(Locale.ROOT), parts.length > 1 ? parts[1].strip() : "");
    }
    if (!inside) {
      throw new IllegalArgumentException("no changes=( array in the builder");
    }
    return b.build();
  }

  /** The writable paths the label lists, in order. */
  List<String> writablePaths() {
    String list = labels.get(ServerImageTest.WRITABLE_PATHS);
    return list == null || list.isBlank() ? List.of() : List.of(list.strip().split("\\s+"));
  }

  /** The instructions of a Containerfile: continuation lines joined, comments and blank lines left out. */
  private static List<String> instructions(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : text.lines().toList()) {
      String t = line.strip();
      if (t.startsWith("#") || (t.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (t.endsWith("\\")) {
        current.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      current.append(t);
      out.add(current.toString().strip());
      current.setLength(0);
    }
    if (current.length() > 0) {
      out.add(current.toString().strip());
    }
    return out;
  }

  /** One bash string literal ("..." with backslash escapes, or '...'), as bash reads it; no expansion. */
  private static String bashString(String literal) {
    if (literal.length() >= 2 && literal.startsWith("'") && literal.endsWith("'")) {
      return literal.substring(1, literal.length() - 1);
    }
    if (literal.length() < 2 || !literal.startsWith("\"") || !literal.endsWith("\"")) {
      throw new IllegalArgumentException("not a quoted string: " + literal);
    }
    StringBuilder out = new StringBuilder();
    String body = literal.substring(1, literal.length() - 1);
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '$' || c == '`') {
        throw new IllegalArgumentException("the builder's fixed changes must not expand anything: " + literal);
      }
      if (c == '\\' && i + 1 < body.length() && "\"\\$`".indexOf(body.charAt(i + 1)) >= 0) {
        out.append(body.charAt(++i));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * Splits {@code key=value key2="value two"} (ENV and LABEL) into pairs; a value may be double-quoted, with
   * backslash escapes inside the quotes.
   */
  static Map<String, String> pairs(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    while (i < text.length()) {
      while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      if (i >= text.length()) {
        break;
      }
      int eq = text.indexOf('=', i);
      if (eq < 0) {
        throw new IllegalArgumentException("not key=value: " + text.substring(i));
      }
      String key = text.substring(i, eq);
      StringBuilder value = new StringBuilder();
      i = eq + 1;
      if (i < text.length() && text.charAt(i) == '"') {
        i++;
        while (i < text.length() && text.charAt(i) != '"') {
          char c = text.charAt(i);
          if (c == '\\' && i + 1 < text.length()) {
            c = text.charAt(++i);
          }
          value.append(c);
          i++;
        }
        i++;
      } else {
        while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
          value.append(text.charAt(i++));
        }
      }
      out.put(key, value.toString());
    }
    return out;
  }

  /** Collects the instructions of one stage. */
  private static final class Builder {
    String from;
    final Map<String, String> args = new LinkedHashMap<>();
    String user;
    Set<String> ports = new LinkedHashSet<>();
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> labels = new LinkedHashMap<>();
    List<String> cmd = List.of();

    void startStage() {
      user = null;
      ports = new LinkedHashSet<>();
      env = new LinkedHashMap<>();
      labels = new LinkedHashMap<>();
      cmd = List.of();
    }

    void apply(String keyword, String rest) {
      switch (keyword) {
        case "ARG" -> {
          String[] kv = rest.split("=", 2);
          if (kv.length == 2 || !args.containsKey(kv[0])) {
            args.put(kv[0], kv.length == 2 ? kv[1] : ""); // a stage's bare ARG keeps the global default
          }
        }
        case "USER" -> user = rest;
        case "EXPOSE" -> ports.addAll(List.of(rest.split("\\s+")));
        case "ENV" -> env.putAll(pairs(rest));
        case "LABEL" -> labels.putAll(pairs(rest));
        case "CMD" -> cmd = Json.createReader(new StringReader(rest)).readArray().getValuesAs(JsonString.class)
            .stream().map(JsonString::getString).toList();
        default -> {
          // RUN, COPY, WORKDIR and the rest make the files, which the integration test checks by running the image.
        }
      }
    }

    ImageDeclaration build() {
      return new ImageDeclaration(from, Map.copyOf(args), user, Set.copyOf(ports), Map.copyOf(env), Map.copyOf(labels),
          cmd);
    }
  }
}
