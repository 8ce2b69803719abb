package dev.agentplatform.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What the manifests must agree with, read from the application and the image rather than copied: the HTTP port
 * (server.xml), the health endpoints (the checks in the {@code health} package), the documented configuration keys
 * (docs/configuration.md) and the image's writable paths (the Containerfile's label).
 *
 * @param httpPort the default of server.xml's {@code HTTP_PORT} variable
 * @param healthPaths for each probe kind ({@code started}, {@code live}, {@code ready}), its endpoint
 * @param documentedKeys every key docs/configuration.md documents
 * @param writablePaths the paths of the Containerfile's {@code dev.agentplatform.writable-paths} label
 */
record AppFacts(int httpPort, Map<String, String> healthPaths, Set<String> documentedKeys,
    List<String> writablePaths) {

  /** The label by which the image lists the paths it writes (each must be a mount: the root is read-only). */
  static final String WRITABLE_PATHS_LABEL = "dev.agentplatform.writable-paths";

  /** Reads every fact from the checkout at {@code root}. */
  static AppFacts read(Path root) {
    return new AppFacts(httpPort(root.resolve("liberty/config/server.xml")), healthPaths(root.resolve(
        "target/classes/dev/agentplatform/health")), documentedKeys(root.resolve("docs/configuration.md")),
        writablePaths(root.resolve("Containerfile")));
  }

  /** The default of {@code <variable name="HTTP_PORT">}, the port the httpEndpoint listens on. */
  static int httpPort(Path serverXml) {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      Element root = factory.newDocumentBuilder().parse(serverXml.toFile()).getDocumentElement();
      NodeList endpoints = root.getElementsByTagName("httpEndpoint");
      if (endpoints.getLength() != 1
          || !"${HTTP_PORT}".equals(((Element) endpoints.item(0)).getAttribute("httpPort"))) {
        throw new IllegalStateException(serverXml + ": expected one httpEndpoint with httpPort=\"${HTTP_PORT}\"");
      }
      NodeList variables = root.getElementsByTagName("variable");
      for (int i = 0; i < variables.getLength(); i++) {
        Element v = (Element) variables.item(i);
        if ("HTTP_PORT".equals(v.getAttribute("name"))) {
          return Integer.parseInt(v.getAttribute("defaultValue"));
        }
      }
      throw new IllegalStateException(serverXml + " has no HTTP_PORT variable");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (javax.xml.parsers.ParserConfigurationException | org.xml.sax.SAXException e) {
      throw new IllegalStateException(serverXml + ": " + e.getMessage(), e);
    }
  }

  /**
   * The endpoints MicroProfile Health serves for the kinds of check the {@code health} package has: a
   * {@code @Startup} check is answered at {@code /health/started}, {@code @Liveness} at {@code /health/live},
   * {@code @Readiness} at {@code /health/ready} (the spec's paths). A kind without a check is left out: its endpoint
   * would answer UP for nothing.
   */
  static Map<String, String> healthPaths(Path compiledPackage) {
    Map<Class<? extends Annotation>, String[]> kinds = new LinkedHashMap<>();
    kinds.put(Startup.class, new String[] {"started", "/health/started"});
    kinds.put(Liveness.class, new String[] {"live", "/health/live"});
    kinds.put(Readiness.class, new String[] {"ready", "/health/ready"});
    Map<String, String> paths = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(compiledPackage)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
        String name = f.getFileName().toString();
        Class<?> c = Class.forName("dev.agentplatform.health." + name.substring(0, name.length() - 6), false,
            AppFacts.class.getClassLoader());
        kinds.forEach((annotation, kind) -> {
          if (c.isAnnotationPresent(annotation)) {
            paths.put(kind[0], kind[1]);
          }
        });
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
    return paths;
  }

  /** Every key in the first column of docs/configuration.md's table ({@code `A` / `B`} names two). */
  static Set<String> documentedKeys(Path configurationMd) {
    Set<String> keys = new TreeSet<>();
    Pattern key = Pattern.compile("`([A-Z][A-Z0-9_]*)`");
    for (String line : lines(configurationMd)) {
      if (line.startsWith("| `")) {
        Matcher m = key.matcher(line.substring(1, line.indexOf('|', 1)));
        while (m.find()) {
          keys.add(m.group(1));
        }
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalStateException(configurationMd + " documents no key");
    }
    return keys;
  }

  /**
   * The paths of the Containerfile's {@code LABEL dev.agentplatform.writable-paths="..."}, in order; an error when
   * the file has no such label (the image must say what it writes).
   */
  static List<String> writablePaths(Path containerfile) {
    Pattern label = Pattern.compile("\\b" + Pattern.quote(WRITABLE_PATHS_LABEL) + "=\"([^\"]*)\"");
    String text = String.join("\n", lines(containerfile)).replace("\\\n", " ");
    Matcher m = label.matcher(text);
    if (!m.find()) {
      throw new IllegalStateException(containerfile + " has no LABEL " + WRITABLE_PATHS_LABEL + "=\"...\"");
    }
    List<String> paths = new ArrayList<>(List.of(m.group(1).trim().split("\\s+")));
    paths.removeIf(String::isEmpty);
    if (paths.isEmpty()) {
      throw new IllegalStateException(containerfile + ": the label " + WRITABLE_PATHS_LABEL + " is empty");
    }
    return paths;
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
