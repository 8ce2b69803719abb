package dev.agentplatform.bench;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.TestDocker;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Measures one turn through the platform (WebSocket send → first text, → turn completed) against the same turn
 * through the bare CLI, with the same scripted model: a fresh agent, a follow-up on a warm agent, and a slow
 * streamed reply. Writes docs/benchmarks.md. Run by {@code bench/run}.
 */
public final class TurnBenchmark {

  private static final int FOLLOW_UPS = 25;
  private static final int SLOW = 7;
  private static final int FRESH = 7;
  private static final int USERS = 3;
  private static final String DOCKER_PREFIX = "apbench";

  public static void main(String[] args) throws Exception {
    Platform platform = Platform.get();
    Map<String, String> embedded = new java.util.HashMap<>();
    embedded.put("STORE", "embedded");
    embedded.put("FIRESTORE_EMULATOR_HOST", null);
    embedded.put("FIRESTORE_PROJECT_ID", null);
    platform.restart(embedded);
    String cli = platform.cliPath();
    Path scratch = Files.createTempDirectory("bench-cli");
    allowNobody(scratch);

    // Warm-up, not measured: the server's code paths get compiled, the CLI binary gets into the page cache.
    bareTurn(cli, platform, scratch.resolve("warm-up"), "warm-up");
    try (WsClient ws = platform.connect("bench")) {
      String agent = create(ws, "warm-up");
      for (int i = 0; i < 10; i++) {
        platformTurn(ws, agent, "warm-up " + i);
      }
      for (int i = 0; i < 2; i++) {
        platformTurn(ws, create(ws, "warm-up-fresh-" + i), "warm-up");
      }
    }

    // Bare CLI: fresh process per turn, then a kept-warm stream-json process.
    List<double[]> bareFresh = new ArrayList<>();
    for (int i = 0; i < FRESH; i++) {
      bareFresh.add(bareTurn(cli, platform, scratch.resolve("fresh" + i), "hello " + i));
    }
    List<double[]> bareWarm = new ArrayList<>();
    List<double[]> bareSlow = new ArrayList<>();
    try (WarmCli warm = new WarmCli(cli, platform, scratch.resolve("warm"))) {
      warm.turn("warm-up");
      for (int i = 0; i < FOLLOW_UPS; i++) {
        bareWarm.add(warm.turn("follow-up " + i));
      }
      for (int i = 0; i < SLOW; i++) {
        bareSlow.add(warm.turn("#slow 5 300"));
      }
    }

    // Through the platform.
    List<double[]> platFresh;
    List<double[]> platWarm = new ArrayList<>();
    List<double[]> platSlow = new ArrayList<>();
    try (WsClient ws = platform.connect("bench")) {
      platFresh = freshAgents(ws, FRESH);
      String agent = warmAgent(ws, FOLLOW_UPS, platWarm);
      for (int i = 0; i < SLOW; i++) {
        platSlow.add(platformTurn(ws, agent, "#slow 5 300"));
      }
    }

    // The same through the Docker runtime (the tests' engine; host networking to reach the scripted model).
    List<double[]> dockerUser = new ArrayList<>();
    List<double[]> dockerFresh = new ArrayList<>();
    List<double[]> dockerWarm = new ArrayList<>();
    try (TestDocker docker = new TestDocker()) {
      docker.removeAll(DOCKER_PREFIX);
      Map<String, String> env = new java.util.HashMap<>(embedded);
      env.put("AGENT_RUNTIME", "docker");
      env.put("DOCKER_HOST", docker.host());
      env.put("DOCKER_IMAGE", TestDocker.image());
      env.put("DOCKER_CONTAINER_PREFIX", DOCKER_PREFIX);
      env.put("DOCKER_NETWORK", "host");
      platform.restart(env);
      try {
        try (WsClient ws = platform.connect("bench-docker-warm-up")) {
          String agent = create(ws, "warm-up");
          for (int i = 0; i < 10; i++) {
            platformTurn(ws, agent, "warm-up " + i);
          }
        }
        for (int u = 0; u < USERS; u++) {
          try (WsClient ws = platform.connect("bench-user-" + u)) {
            dockerUser.addAll(freshAgents(ws, 1));
          }
        }
        try (WsClient ws = platform.connect("bench-user-0")) {
          dockerFresh.addAll(freshAgents(ws, FRESH));
          warmAgent(ws, FOLLOW_UPS, dockerWarm);
        }
      } finally {
        platform.stop();
        docker.removeAll(DOCKER_PREFIX);
      }
    }

    String machine = Runtime.getRuntime().availableProcessors() + " cores, "
        + (Runtime.getRuntime().maxMemory() / (1 << 20)) + " MiB max heap for the bench JVM, "
        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java " + System.getProperty(
            "java.version");
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks\n\n");
    md.append("Measured by `bench/run` on ").append(LocalDate.now()).append(" (").append(machine).append(").\n");
    md.append("Same scripted Messages-API server on loopback for both columns, Claude Code CLI ")
        .append(version(cli)).append(
            ", embedded store, after an unmeasured warm-up of both. Times in milliseconds, median (min–max);\n")
        .append(FRESH + " fresh agents, " + FOLLOW_UPS + " follow-ups and " + SLOW + " slow replies each way.\n\n");
    md.append("| turn | what | bare CLI | through the platform | platform overhead (medians) |\n");
    md.append("| --- | --- | --- | --- | --- |\n");
    row(md, "fresh agent (first turn, new process)", bareFresh, platFresh);
    row(md, "follow-up on a warm agent", bareWarm, platWarm);
    row(md, "slow streamed reply (5 deltas, 300 ms apart)", bareSlow, platSlow);
    md.append(
        "\n\"first text\" is from sending the message to the first assistant text (a `text_delta` line from the\n")
        .append(
            "CLI; an `assistant_text` event on the WebSocket, which is stored before it is sent); \"done\" is to the\n")
        .append(
            "turn's result. The bare CLI's fresh turn starts a process per message, as the open-source web front ends do;\n")
        .append(
            "its warm rows write to one long-lived stream-json process, as the platform does. Each fresh platform agent\n")
        .append(
            "is deleted after its turn, which ends its process, so that no earlier agent's CLI competes for the two\n")
        .append(
            "cores (an idle CLI holds about 190 MB and uses 0.5–1.5% of a core; one just done with a turn uses more).\n");
    md.append("\n## The Docker runtime\n\n");
    md.append("The same turns through the `docker` runtime (one container per user on the tests' Docker Engine, host\n")
        .append("networking, the image from `containers/agent/build-local`), against the `process` rows above.\n\n");
    md.append("| turn | what | process runtime | docker runtime | difference (medians) |\n");
    md.append("| --- | --- | --- | --- | --- |\n");
    row(md, "first turn of a new user (container made)", platFresh, dockerUser);
    row(md, "fresh agent, the user's container running", platFresh, dockerFresh);
    row(md, "follow-up on a warm agent", platWarm, dockerWarm);
    md.append("\n" + USERS + " new users, " + FRESH + " fresh agents and " + FOLLOW_UPS
        + " follow-ups. A new user's first turn\n")
        .append(
            "includes making and starting the container and its volume; a fresh agent's includes an exec that makes\n")
        .append("its workspace directory and the exec that starts its CLI.\n");
    Path file = Path.of("docs/benchmarks.md");
    // What people wrote about the figures (from "## Reading these figures" on) is kept.
    String notes = Files.exists(file) ? Files.readString(file) : "";
    int at = notes.indexOf("\n## Reading these figures");
    if (at >= 0) {
      md.append(notes.substring(at));
    }
    Files.writeString(file, md.toString());
    System.out.println(md);
    System.exit(0);
  }

  private static void row(StringBuilder md, String name, List<double[]> bare, List<double[]> plat) {
    for (int k = 0; k < 2; k++) {
      md.append("| ").append(k == 0 ? name : "").append(" | ").append(k == 0 ? "first text" : "done").append(" | ")
          .append(stat(bare, k)).append(" | ").append(stat(plat, k)).append(" | ")
          .append(String.format("%+.1f", median(plat, k) - median(bare, k))).append(" |\n");
    }
  }

  private static String stat(List<double[]> runs, int k) {
    List<Double> v = values(runs, k);
    return String.format("%.1f (%.1f–%.1f)", median(runs, k), v.get(0), v.get(v.size() - 1));
  }

  private static double median(List<double[]> runs, int k) {
    List<Double> v = values(runs, k);
    return v.size() % 2 == 1 ? v.get(v.size() / 2) : (v.get(v.size() / 2 - 1) + v.get(v.size() / 2)) / 2;
  }

  private static List<Double> values(List<double[]> runs, int k) {
    List<Double> v = new ArrayList<>();
    runs.stream().filter(r -> !Double.isNaN(r[k])).forEach(r -> v.add(r[k]));
    Collections.sort(v);
    return v;
  }

  /**
   * The first turns of {@code n} new agents. Each is deleted after its turn, which ends its CLI: as with the bare
   * runs, no earlier agent's CLI competes for the cores.
   */
  static List<double[]> freshAgents(WsClient ws, int n) throws InterruptedException {
    List<double[]> runs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String agent = create(ws, "fresh-" + i);
      runs.add(platformTurn(ws, agent, "hello " + i));
      ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));
    }
    return runs;
  }

  /** A new agent, warmed by one turn, then {@code n} follow-ups measured into {@code runs}; returns the agent. */
  static String warmAgent(WsClient ws, int n, List<double[]> runs) throws InterruptedException {
    String agent = create(ws, "warm");
    platformTurn(ws, agent, "warm-up");
    for (int i = 0; i < n; i++) {
      runs.add(platformTurn(ws, agent, "follow-up " + i));
    }
    return agent;
  }

  static String create(WsClient ws, String name) throws InterruptedException {
    return ws.call("agent.create", Json.createObjectBuilder().add("agent", Json.createObjectBuilder().add("name",
        name)))
        .getJsonObject("agent").getString("id");
  }

  /**
   * Sends a message and times its turn: from the send to the turn's first assistant text and to its end, counting
   * only events of this turn (the reply names it). A send refused as busy right after the previous turn's end (the
   * server lets go of a turn a moment after its last events are out, which a loaded machine stretches) is sent again
   * and timed from there.
   */
  static double[] platformTurn(WsClient ws, String agent, String text) throws InterruptedException {
    for (int attempt = 1;; attempt++) {
      long start = System.nanoTime();
      String id = "b" + start;
      ws.sendRaw(Json.createObjectBuilder().add("type", "send").add("id", id).add("agentId", agent)
          .add("text", text).build().toString());
      String turnId = null;
      List<Object[]> early = new ArrayList<>();
      long first = 0;
      long done = 0;
      while (true) {
        JsonObject f = ws.next(x -> id.equals(x.getString("id", null)) || ("event".equals(WsClient.type(x))
            && agent.equals(x.getJsonObject("event").getString("agentId"))));
        long now = System.nanoTime();
        if ("error".equals(WsClient.type(f))) {
          if ("busy".equals(f.getString("code", "")) && attempt < 100) {
            System.err.println("busy right after the previous turn's end; sending again: " + text);
            Thread.sleep(10);
            break;
          }
          throw new IllegalStateException(f.toString());
        }
        List<Object[]> arrived = new ArrayList<>();
        if ("reply".equals(WsClient.type(f))) {
          turnId = f.getString("turnId");
          arrived.addAll(early);
        } else if (turnId == null) {
          early.add(new Object[] {f.getJsonObject("event"), now});
        } else {
          arrived.add(new Object[] {f.getJsonObject("event"), now});
        }
        for (Object[] a : arrived) {
          JsonObject e = (JsonObject) a[0];
          if (!turnId.equals(e.getString("turnId", ""))) {
            continue;
          }
          String kind = e.getString("kind");
          if (first == 0 && "assistant_text".equals(kind)) {
            first = (Long) a[1];
          }
          if ("turn_completed".equals(kind) || "turn_failed".equals(kind)) {
            done = (Long) a[1];
          }
          if (done != 0 && "agent_status".equals(kind)) {
            // A turn without text (one that failed at once) has no first text: NaN, left out of the statistics.
            return new double[] {first == 0 ? Double.NaN : (first - start) / 1e6, (done - start) / 1e6};
          }
        }
      }
    }
  }

  private static List<String> command(String cli, List<String> args) {
    List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", cli));
    c.addAll(args);
    return c;
  }

  private static ProcessBuilder builder(String cli, Platform platform, Path dir, List<String> args) throws Exception {
    Files.createDirectories(dir);
    allowNobody(dir);
    ProcessBuilder b = new ProcessBuilder(command(cli, args)).directory(dir.toFile());
    Map<String, String> env = b.environment();
    env.clear();
    env.put("PATH", System.getenv("PATH"));
    env.put("HOME", dir.toString());
    env.put("CLAUDE_CONFIG_DIR", dir.resolve(".claude").toString());
    env.put("ANTHROPIC_API_KEY", "sk-bench");
    env.put("ANTHROPIC_BASE_URL", platform.model.baseUrl());
    env.put("DISABLE_TELEMETRY", "1");
    env.put("DISABLE_AUTOUPDATER", "1");
    env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
    return b;
  }

  static double[] bareTurn(String cli, Platform platform, Path dir, String text) throws Exception {
    long start = System.nanoTime();
    Process p = builder(cli, platform, dir, List.of("-p", text, "--output-format", "stream-json", "--verbose",
        "--include-partial-messages")).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    p.getOutputStream().close();
    double[] t = read(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)), start);
    p.waitFor();
    return t;
  }

  private static double[] read(BufferedReader out, long start) throws Exception {
    long first = 0;
    String line;
    while ((line = out.readLine()) != null) {
      if (first == 0 && line.contains("\"text_delta\"")) {
        first = System.nanoTime();
      }
      if (line.startsWith("{\"type\":\"result\"") || line.contains("\"type\":\"result\"")) {
        return new double[] {(first - start) / 1e6, (System.nanoTime() - start) / 1e6};
      }
    }
    throw new IllegalStateException("the CLI ended without a result");
  }

  static void allowNobody(Path dir) throws Exception {
    Files.setAttribute(dir, "unix:uid", 65534);
  }

  private static String version(String cli) throws Exception {
    Process p = new ProcessBuilder(cli, "--version").redirectErrorStream(true).start();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }

  /** A kept-warm bare CLI process taking one message per turn on stdin. */
  static final class WarmCli implements AutoCloseable {
    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;

    WarmCli(String cli, Platform platform, Path dir) throws Exception {
      process = builder(cli, platform, dir, List.of("-p", "--input-format", "stream-json", "--output-format",
          "stream-json", "--verbose", "--include-partial-messages")).redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
      out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    double[] turn(String text) throws Exception {
      long start = System.nanoTime();
      in.write(Json.createObjectBuilder().add("type", "user").add("message",
          Json.createObjectBuilder().add("role", "user").add("content", text)).build().toString());
      in.write('\n');
      in.flush();
      return read(out, start);
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }
}
