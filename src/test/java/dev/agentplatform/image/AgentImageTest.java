package dev.agentplatform.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.runtime.kubernetes.SandboxObjects;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The agent image's Containerfile and containers/agent/build-local (its local equivalent) declare the same user,
 * workspace, environment and command, that command is the runner the pod names ({@link SandboxObjects#RUNNER_COMMAND})
 * and both put the runner, its Java runtime and the switch to the CLI's user where it runs them; both pin the CLI
 * version the build pins, which is also the platform's default image. (No registry here: the Containerfile itself is
 * built only where one is reachable; SandboxImageIT runs the local image.) Each check is shown failing on a drifted
 * copy.
 */
class AgentImageTest {

  private static final Path BASE = Path.of(System.getProperty("project.basedir", "."));
  private static final String VERSION = System.getProperty("claude.cli.version");
  private static final String CONTAINERFILE = "containers/agent/Containerfile";
  private static final String BUILD_LOCAL = "containers/agent/build-local";

  @Test
  void theContainerfilePinsTheBuildsCliVersion() throws Exception {
    String file = read(CONTAINERFILE);
    Matcher m = Pattern.compile("(?m)^ARG CLAUDE_CODE_VERSION=(\\S+)$").matcher(file);
    assertTrue(m.find(), "an ARG CLAUDE_CODE_VERSION with a default");
    assertEquals(VERSION, m.group(1), "containers/agent/Containerfile and pom.xml (claude.cli.version) agree");
    assertTrue(file.contains("npm install") && file.contains("@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"),
        "the CLI comes from npm at that version");
  }

  @Test
  void theContainerfileAndTheLocalBuilderAgreeAndRunTheRunnerThePodNames() throws Exception {
    assertEquals(List.of(), disagreements(read(CONTAINERFILE), read(BUILD_LOCAL)));
    ImageDeclaration real = ImageDeclaration.ofContainerfile(read(CONTAINERFILE));
    assertEquals("1000:1000", real.user(), "the docker runtime's user, agent");
    assertTrue(real.cmd().contains("-XX:+DisableAttachMechanism"), real.cmd().toString());
  }

  @Test
  void aDriftedContainerfileIsCaught() throws Exception {
    String drifted = read(CONTAINERFILE)
        .replace("USER 1000:1000", "USER 0:0")
        .replace("WORKDIR /workspace", "WORKDIR /home/agent")
        .replace("\"-XX:+DisableAttachMechanism\", ", "")
        .replace("--output /opt/agent-runner/java", "--output /opt/java")
        .replace(" util-linux", "")
        .replace(" tini ", " ");
    List<String> found = disagreements(drifted, read(BUILD_LOCAL));
    for (String expected : List.of(
        "user: 0:0 in the Containerfile, 1000:1000 in build-local",
        "user: the Containerfile runs as root",
        "workdir: the Containerfile has no WORKDIR /workspace",
        "command: [/usr/bin/tini, --, /opt/agent-runner/java/bin/java, -jar, /opt/agent-runner/runner.jar] in the"
            + " Containerfile, the pod runs " + SandboxObjects.RUNNER_COMMAND,
        "the Containerfile does not install tini",
        "the Containerfile does not link the runner's Java runtime at /opt/agent-runner/java",
        "the Containerfile does not install util-linux (setpriv, for the runner's switch to the CLI's user)")) {
      assertTrue(found.contains(expected), "expected \"" + expected + "\" among\n" + String.join("\n", found));
    }
  }

  @Test
  void aDriftedLocalBuilderIsCaught() throws Exception {
    String drifted = read(BUILD_LOCAL)
        .replace("\"ENV LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin\"", "\"ENV LANG=C.UTF-8 PATH=/usr/bin:/bin\"")
        .replace("\"$stage/opt/agent-runner/runner.jar\"", "\"$stage/opt/runner.jar\"")
        .replace("case \"$applet\" in setpriv | env) continue ;; esac", "")
        .replace("--print-module-deps", "--list-deps");
    List<String> found = disagreements(read(CONTAINERFILE), drifted);
    for (String expected : List.of(
        "env PATH: /usr/local/bin:/usr/bin:/bin in the Containerfile, /usr/bin:/bin in build-local",
        "build-local does not put the runner's jar at /opt/agent-runner/runner.jar",
        "build-local keeps busybox's setpriv or env beside util-linux's and coreutils'",
        "build-local does not link the modules jdeps --print-module-deps finds in the runner's jar")) {
      assertTrue(found.contains(expected), "expected \"" + expected + "\" among\n" + String.join("\n", found));
    }
  }

  @Test
  void theBuildContextHoldsWhatTheContainerfileCopiesAndNothingElse() throws Exception {
    List<String> ignore = read(CONTAINERFILE + ".dockerignore").lines().map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    assertEquals("*", ignore.get(0), "everything is left out but what is let in");
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from=)(\\S+) ").matcher(read(CONTAINERFILE));
    List<String> copied = new ArrayList<>();
    while (copy.find()) {
      copied.add("!" + copy.group(1));
    }
    assertEquals(List.of("!target/agent-platform-runner.jar"), copied);
    assertEquals(copied, ignore.subList(1, ignore.size()), "the ignore file lets in exactly what the image copies");
  }

  @Test
  void theDefaultImageIsTheOneForThePinnedCli() throws Exception {
    Properties defaults = new Properties();
    try (var in = getClass().getResourceAsStream("/META-INF/microprofile-config.properties")) {
      defaults.load(in);
    }
    assertEquals("agent-platform-agent:" + VERSION, defaults.getProperty("DOCKER_IMAGE"));
    assertEquals("agent-platform-agent:" + VERSION, defaults.getProperty("SANDBOX_IMAGE"));
  }

  /** Every way the Containerfile, build-local and the pod's command disagree; empty when they agree. */
  static List<String> disagreements(String containerfile, String builder) {
    ImageDeclaration real = ImageDeclaration.ofContainerfile(containerfile);
    ImageDeclaration local = ImageDeclaration.ofLocalBuilder(builder);
    List<String> out = new ArrayList<>();
    if (!String.valueOf(real.user()).equals(local.user())) {
      out.add("user: " + real.user() + " in the Containerfile, " + local.user() + " in build-local");
    }
    checkNotRoot(out, "the Containerfile", real.user());
    checkNotRoot(out, "build-local", local.user());
    if (!containerfile.contains("\nWORKDIR /workspace\n")) {
      out.add("workdir: the Containerfile has no WORKDIR /workspace");
    }
    if (!builder.contains("\"WORKDIR /workspace\"")) {
      out.add("workdir: build-local has no WORKDIR /workspace");
    }
    for (var e : real.env().entrySet()) {
      String there = local.env().get(e.getKey());
      if (!e.getValue().equals(there)) {
        out.add("env " + e.getKey() + ": " + e.getValue() + " in the Containerfile, " + there + " in build-local");
      }
    }
    local.env().keySet().stream().filter(k -> !real.env().containsKey(k))
        .forEach(k -> out.add("env " + k + ": set in build-local only"));

    List<String> command = SandboxObjects.RUNNER_COMMAND;
    if (!real.cmd().equals(command)) {
      out.add("command: " + real.cmd() + " in the Containerfile, the pod runs " + command);
    }
    if (!local.cmd().equals(command)) {
      out.add("command: " + local.cmd() + " in build-local, the pod runs " + command);
    }
    // The files the command names: tini, the Java runtime's home and the jar.
    if (!command.get(0).equals("/usr/bin/tini") || !command.get(1).equals("--")) {
      out.add("command: the pod's runner does not run under tini as pid 1: " + command);
    }
    if (!Pattern.compile("apt-get install [^\\n]* tini[ \\n]").matcher(containerfile).find()) {
      out.add("the Containerfile does not install tini");
    }
    if (!builder.contains("cp \"$tini\" \"$stage/usr/bin/tini\"")) {
      out.add("build-local does not copy tini to /usr/bin/tini");
    }
    String javaHome = command.stream().filter(c -> c.endsWith("/bin/java")).findFirst().orElse("")
        .replaceFirst("/bin/java$", "");
    String jar = command.get(command.indexOf("-jar") + 1);
    if (!containerfile.contains("--output " + javaHome + " ")) {
      out.add("the Containerfile does not link the runner's Java runtime at " + javaHome);
    }
    if (!containerfile.contains("COPY target/agent-platform-runner.jar " + jar + "\n")
        || !containerfile.contains("COPY --from=runner /opt/agent-runner /opt/agent-runner\n")
        || !jar.startsWith("/opt/agent-runner/") || !javaHome.startsWith("/opt/agent-runner/")) {
      out.add("the Containerfile does not put the runner's jar at " + jar);
    }
    if (!builder.contains("\"$stage" + javaHome + "\"")) {
      out.add("build-local does not put the runner's Java runtime at " + javaHome);
    }
    if (!builder.contains("\"$stage" + jar + "\"")) {
      out.add("build-local does not put the runner's jar at " + jar);
    }
    // Only what the jar needs, found the same way in both.
    if (!containerfile.contains("jlink --add-modules \"$(jdeps --print-module-deps " + jar + ")\"")) {
      out.add("the Containerfile does not link the modules jdeps --print-module-deps finds in the runner's jar");
    }
    if (!builder.contains("jdeps\" --print-module-deps \"$runner\"") || !builder.contains(
        "--add-modules \"$modules\"")) {
      out.add("build-local does not link the modules jdeps --print-module-deps finds in the runner's jar");
    }
    // The switch to the CLI's user (runner.CliUser): util-linux's setpriv and coreutils' env, found on
    // /usr/sbin:/usr/bin:/sbin:/bin.
    for (String pkg : List.of("util-linux", "coreutils")) {
      if (!Pattern.compile("apt-get install [^\\n]* " + pkg + "[ \\n]").matcher(containerfile).find()) {
        out.add("the Containerfile does not install " + pkg + " (" + (pkg.equals("util-linux") ? "setpriv" : "env")
            + ", for the runner's switch to the CLI's user)");
      }
    }
    for (String tool : List.of("setpriv", "env")) {
      if (!builder.contains("cp \"$" + tool + "\" \"$stage/usr/bin/" + tool + "\"")) {
        out.add("build-local does not copy " + tool + " to /usr/bin/" + tool);
      }
    }
    if (!builder.contains("case \"$applet\" in setpriv | env) continue ;; esac")) {
      out.add("build-local keeps busybox's setpriv or env beside util-linux's and coreutils'");
    }
    return out;
  }

  private static void checkNotRoot(List<String> out, String where, String user) {
    String name = user == null ? "0" : user.split(":")[0];
    if (name.equals("0") || name.equals("root")) {
      out.add("user: " + where + " runs as root");
    }
  }

  private static String read(String path) throws Exception {
    return Files.readString(BASE.resolve(path));
  }
}
