package dev.agentplatform.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The server's Containerfile and containers/server/build-local (the equivalent image the tests run, made without a
 * registry) declare the same user, port, writable paths, environment and command, and the Containerfile pins the
 * Liberty and CLI versions pom.xml pins: neither can drift from the other, or from the build, silently. The drifted
 * fixtures in src/test/resources/server-image show that each check can fail.
 */
class ServerImageTest {

  static final String WRITABLE_PATHS = "dev.agentplatform.writable-paths";
  private static final Path BASE = Path.of(System.getProperty("project.basedir", "."));
  private static final String LIBERTY_IMAGE = "icr.io/appcafe/open-liberty";
  private static final String LIBERTY_FLAVOUR = "-kernel-slim-java21-openj9-ubi-minimal";
  /** The base image's command, which the Containerfile keeps (its ENTRYPOINT only execs it). */
  private static final List<String> SERVER_RUN = List.of("/opt/ol/wlp/bin/server", "run", "defaultServer");
  /** What the Liberty base image sets (as the Containerfile has it) and the local image, having no base, sets itself. */
  private static final Map<String, String> BASE_IMAGE_ENV = Map.of("LOG_DIR", "/logs", "WLP_OUTPUT_DIR",
      "/opt/ol/wlp/output");
  /** Set by the local image for its own Java; the base image sets its own. */
  private static final Set<String> LOCAL_JAVA_ENV = Set.of("JAVA_HOME", "PATH");
  /** Options of OpenJ9, which the local image (HotSpot) does not run. */
  private static final Set<String> OPENJ9_ONLY_ENV = Set.of("OPENJ9_JAVA_OPTIONS");

  /** What the build and the server's configuration say, which the images must follow. */
  record Facts(String libertyVersion, String cliVersion, String projectVersion, String httpPort,
      Set<String> documentedKeys) {
  }

  @Test
  void theContainerfileAndTheLocalBuilderAgreeWithEachOtherAndWithTheBuild() throws Exception {
    ImageDeclaration real = ImageDeclaration.ofContainerfile(read("Containerfile"));
    ImageDeclaration local = ImageDeclaration.ofLocalBuilder(read("containers/server/build-local"));
    assertEquals(List.of(), disagreements(real, local, facts()));
    // The contract with the manifests (kubernetes/ mounts each of these; its test reads the label).
    assertEquals(List.of("/logs", "/opt/ol/wlp/output", "/tmp", "/var/lib/agent-platform/data",
        "/var/lib/agent-platform/workspaces"), real.writablePaths());
    assertEquals("1001:0", real.user());
    assertEquals(Set.of("9080"), real.ports());
  }

  @Test
  void aDriftedContainerfileIsCaught() throws Exception {
    ImageDeclaration drifted = ImageDeclaration.ofContainerfile(Files.readString(fixture("Containerfile.drifted")));
    ImageDeclaration local = ImageDeclaration.ofLocalBuilder(read("containers/server/build-local"));
    List<String> found = disagreements(drifted, local, facts());
    for (String expected : List.of(
        "base image: icr.io/appcafe/open-liberty:25.0.0.12-kernel-slim-java21-openj9-ubi-minimal, not the Liberty"
            + " version of pom.xml (26.0.0.3)",
        "CLAUDE_CODE_VERSION: 2.1.300 in the Containerfile, 2.1.328 in pom.xml (claude.cli.version)",
        "user: 1002:0 in the Containerfile, 1001:0 in build-local",
        "ports: [9443] in the Containerfile, [9080] in build-local",
        "ports: the server listens on 9080 (server.xml HTTP_PORT), the Containerfile exposes [9443]",
        "writable paths: [/logs, /opt/ol/wlp/output, /var/lib/agent-platform/data] in the Containerfile,"
            + " [/logs, /opt/ol/wlp/output, /tmp, /var/lib/agent-platform/data, /var/lib/agent-platform/workspaces]"
            + " in build-local",
        "writable paths of the Containerfile: WORKSPACE_ROOT (/srv/workspaces) is not one",
        "env HTTP_HOST: 0.0.0.0 in the Containerfile, * in build-local",
        "env HTTP_HOST: the Containerfile listens on 0.0.0.0, not on every interface (*)",
        "env WORKSPACE_ROOT: /srv/workspaces in the Containerfile, /var/lib/agent-platform/workspaces in build-local",
        "env DISABLE_DOCKER: set in build-local only",
        "env AGENT_MODE: set in the Containerfile only",
        "env AGENT_MODE: not a documented setting (docs/configuration.md) nor Liberty's",
        "OPENJ9_JAVA_OPTIONS: the class cache must be opened readonly and nonFatal from an image path, not"
            + " -Xshareclasses:name=liberty,cacheDir=/opt/ol/wlp/output/.classCache")) {
      assertTrue(found.contains(expected), "expected \"" + expected + "\" among\n" + String.join("\n", found));
    }
  }

  @Test
  void aDriftedLocalBuilderIsCaught() throws Exception {
    ImageDeclaration real = ImageDeclaration.ofContainerfile(read("Containerfile"));
    ImageDeclaration drifted = ImageDeclaration.ofLocalBuilder(Files.readString(fixture("build-local.drifted")));
    List<String> found = disagreements(real, drifted, facts());
    for (String expected : List.of(
        "user: 1001:0 in the Containerfile, 0 in build-local",
        "user: build-local runs as root",
        "writable paths: [/logs, /opt/ol/wlp/output, /tmp, /var/lib/agent-platform/data,"
            + " /var/lib/agent-platform/workspaces] in the Containerfile, [/logs, /opt/ol/wlp/output,"
            + " /var/lib/agent-platform/data, /var/lib/agent-platform/workspaces] in build-local",
        "writable paths of build-local: /tmp is not one",
        "env CLAUDE_CLI_PATH: /usr/local/bin/claude in the Containerfile, /opt/claude in build-local",
        "env WLP_LOGGING_CONSOLE_FORMAT: JSON in the Containerfile, SIMPLE in build-local",
        "env LOG_DIR: /var/log/liberty in build-local, where the base image has /logs",
        "writable paths of build-local: LOG_DIR (/var/log/liberty) is not one",
        "command: [/opt/ol/wlp/bin/server, start, defaultServer] in build-local, the base image runs"
            + " [/opt/ol/wlp/bin/server, run, defaultServer]")) {
      assertTrue(found.contains(expected), "expected \"" + expected + "\" among\n" + String.join("\n", found));
    }
  }

  /** Every way the two images, the build and the server's configuration disagree; empty when they agree. */
  static List<String> disagreements(ImageDeclaration real, ImageDeclaration local, Facts facts) {
    List<String> out = new ArrayList<>();
    String wantedBase = LIBERTY_IMAGE + ":" + facts.libertyVersion() + LIBERTY_FLAVOUR;
    if (!wantedBase.equals(real.from())) {
      out.add("base image: " + real.from() + ", not the Liberty version of pom.xml (" + facts.libertyVersion() + ")");
    }
    String cli = real.args().get("CLAUDE_CODE_VERSION");
    if (!facts.cliVersion().equals(cli)) {
      out.add("CLAUDE_CODE_VERSION: " + cli + " in the Containerfile, " + facts.cliVersion()
          + " in pom.xml (claude.cli.version)");
    }
    String version = real.args().get("VERSION");
    if (!facts.projectVersion().equals(version)) {
      out.add("VERSION: " + version + " in the Containerfile, " + facts.projectVersion() + " in pom.xml");
    }
    for (String label : List.of("version", "revision", "source")) {
      String key = "org.opencontainers.image." + label;
      if (!real.labels().getOrDefault(key, "").matches("\\$\\{[A-Z]+}")) {
        out.add("label " + key + ": not set from a build argument in the Containerfile");
      }
    }

    if (!String.valueOf(real.user()).equals(local.user())) {
      out.add("user: " + real.user() + " in the Containerfile, " + local.user() + " in build-local");
    }
    checkNotRoot(out, "the Containerfile", real.user());
    checkNotRoot(out, "build-local", local.user());

    if (!real.ports().equals(local.ports())) {
      out.add("ports: " + new TreeSet<>(real.ports()) + " in the Containerfile, " + new TreeSet<>(local.ports())
          + " in build-local");
    }
    if (!real.ports().equals(Set.of(facts.httpPort()))) {
      out.add("ports: the server listens on " + facts.httpPort() + " (server.xml HTTP_PORT), the Containerfile exposes "
          + new TreeSet<>(real.ports()));
    }

    if (!real.writablePaths().equals(local.writablePaths())) {
      out.add("writable paths: " + real.writablePaths() + " in the Containerfile, " + local.writablePaths()
          + " in build-local");
    }
    checkWritable(out, "the Containerfile", real, withBase(real.env()));
    checkWritable(out, "build-local", local, local.env());

    for (var e : real.env().entrySet()) {
      String key = e.getKey();
      String there = local.env().get(key);
      if (OPENJ9_ONLY_ENV.contains(key)) {
        continue;
      }
      if (there == null) {
        out.add("env " + key + ": set in the Containerfile only");
      } else if (!there.equals(e.getValue())) {
        out.add("env " + key + ": " + e.getValue() + " in the Containerfile, " + there + " in build-local");
      }
    }
    for (var e : local.env().entrySet()) {
      String key = e.getKey();
      if (real.env().containsKey(key) || LOCAL_JAVA_ENV.contains(key)) {
        continue;
      }
      if (BASE_IMAGE_ENV.containsKey(key)) {
        if (!BASE_IMAGE_ENV.get(key).equals(e.getValue())) {
          out.add("env " + key + ": " + e.getValue() + " in build-local, where the base image has "
              + BASE_IMAGE_ENV.get(key));
        }
      } else {
        out.add("env " + key + ": set in build-local only");
      }
    }
    for (String key : real.env().keySet()) {
      boolean liberty = key.startsWith("WLP_") || OPENJ9_ONLY_ENV.contains(key) || BASE_IMAGE_ENV.containsKey(key);
      if (!liberty && !facts.documentedKeys().contains(key)) {
        out.add("env " + key + ": not a documented setting (docs/configuration.md) nor Liberty's");
      }
    }
    if (real.env().containsKey("HTTP_HOST") && !"*".equals(real.env().get("HTTP_HOST"))) {
      out.add("env HTTP_HOST: the Containerfile listens on " + real.env().get("HTTP_HOST")
          + ", not on every interface (*)");
    }
    if (!"true".equals(real.env().get("DISABLE_DOCKER"))) {
      out.add("env DISABLE_DOCKER: not true in the Containerfile (no Docker Engine on GKE)");
    }
    checkClassCache(out, real);

    if (!real.cmd().isEmpty() && !real.cmd().equals(SERVER_RUN)) {
      out.add("command: " + real.cmd() + " in the Containerfile, the base image runs " + SERVER_RUN);
    }
    if (!local.cmd().equals(SERVER_RUN)) {
      out.add("command: " + local.cmd() + " in build-local, the base image runs " + SERVER_RUN);
    }
    return out;
  }

  private static void checkNotRoot(List<String> out, String where, String user) {
    String name = user == null ? "0" : user.split(":")[0];
    if (name.equals("0") || name.equals("root")) {
      out.add("user: " + where + " runs as root");
    }
  }

  /** Every path the server writes must be a writable path: the data, the workspaces, the logs, the output, /tmp. */
  private static void checkWritable(List<String> out, String where, ImageDeclaration image, Map<String, String> env) {
    List<String> paths = image.writablePaths();
    for (String key : List.of("DATA_DIR", "WORKSPACE_ROOT", "LOG_DIR", "WLP_OUTPUT_DIR")) {
      String value = env.get(key);
      if (value != null && !paths.contains(value)) {
        out.add("writable paths of " + where + ": " + key + " (" + value + ") is not one");
      }
    }
    if (!paths.contains("/tmp")) {
      out.add("writable paths of " + where + ": /tmp is not one");
    }
  }

  /** The class cache lies in the image and is opened read-only; else it would be made, empty, in an emptyDir. */
  private static void checkClassCache(List<String> out, ImageDeclaration real) {
    String options = real.env().getOrDefault("OPENJ9_JAVA_OPTIONS", "");
    Matcher m = Pattern.compile("-Xshareclasses:(\\S+)").matcher(options);
    boolean present = m.find();
    String found = present ? m.group() : "no -Xshareclasses option";
    List<String> parts = present ? List.of(m.group(1).split(",")) : List.of();
    String cacheDir = parts.stream().filter(p -> p.startsWith("cacheDir=")).map(p -> p.substring(9)).findFirst()
        .orElse("");
    boolean inImage = !cacheDir.isEmpty() && real.writablePaths().stream().noneMatch(cacheDir::startsWith);
    if (!parts.contains("readonly") || !parts.contains("nonFatal") || !inImage) {
      out.add("OPENJ9_JAVA_OPTIONS: the class cache must be opened readonly and nonFatal from an image path, not "
          + found);
    }
  }

  private static Map<String, String> withBase(Map<String, String> env) {
    Map<String, String> all = new java.util.HashMap<>(BASE_IMAGE_ENV);
    all.putAll(env);
    return all;
  }

  static Facts facts() throws Exception {
    Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(BASE.resolve("pom.xml").toFile());
    Element project = pom.getDocumentElement();
    Element properties = (Element) project.getElementsByTagName("properties").item(0);
    String version = null;
    for (var n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals("version")) {
        version = e.getTextContent().strip();
      }
    }
    Document server = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(BASE.resolve("liberty/config/server.xml").toFile());
    String port = null;
    var variables = server.getElementsByTagName("variable");
    for (int i = 0; i < variables.getLength(); i++) {
      Element v = (Element) variables.item(i);
      if (v.getAttribute("name").equals("HTTP_PORT")) {
        port = v.getAttribute("defaultValue");
      }
    }
    Set<String> documented = Pattern.compile("(?m)^\\| (.+?) \\|").matcher(read("docs/configuration.md")).results()
        .flatMap(r -> Pattern.compile("`([A-Z0-9_]+)`").matcher(r.group(1)).results().map(k -> k.group(1)))
        .collect(Collectors.toSet());
    return new Facts(text(properties, "liberty.runtime.version"), text(properties, "claude.cli.version"), version, port,
        documented);
  }

  private static String text(Element parent, String tag) {
    return parent.getElementsByTagName(tag).item(0).getTextContent().strip();
  }

  private static String read(String path) throws Exception {
    return Files.readString(BASE.resolve(path));
  }

  private static Path fixture(String name) {
    return BASE.resolve("src/test/resources/server-image").resolve(name);
  }
}
