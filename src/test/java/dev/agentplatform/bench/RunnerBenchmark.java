package dev.agentplatform.bench;

import dev.agentplatform.testing.FakeCluster;
import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A turn through the {@code kubernetes} runtime (the platform → HTTP → the pod's runner → the CLI, on {@link
 * FakeCluster}) against the same turn through the {@code process} runtime, with the same scripted model: follow-ups
 * on a warm agent and new agents' first turns, over the WebSocket, in alternating rounds (a Liberty start each) so
 * that a change of the machine's load falls on both. Run by {@code bench/run runner [ROUNDS]}.
 */
public final class RunnerBenchmark {

  private static final int FOLLOW_UPS = 30;
  private static final int FRESH = 5;
  private static final String NS = "agent-sandboxes-bench";

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
    Path dir = Path.of(System.getProperty("it.work.dir", "target/bench")).toAbsolutePath().resolveSibling(
        "bench-cluster-" + System.nanoTime());
    Map<String, List<double[]>> warm = new HashMap<>();
    Map<String, List<double[]>> fresh = new HashMap<>();
    Platform platform = null;
    List<Double> podStarts;
    try (FakeCluster cluster = new FakeCluster(NS, dir).start()) {
      Map<String, String> process = FanoutBenchmark.storeEnv("embedded");
      Map<String, String> kubernetes = new HashMap<>(process);
      kubernetes.putAll(cluster.environment());
      kubernetes.put("SANDBOX_CLI_PATH", System.getProperty("it.claude.cli.path"));
      for (int r = 0; r < rounds; r++) {
        for (String runtime : List.of("process", "kubernetes")) {
          Map<String, String> env = "process".equals(runtime) ? process : kubernetes;
          if (platform == null) {
            platform = Platform.with(env);
          } else {
            platform.restart(env);
          }
          awaitReady(platform);
          measure(platform, runtime + "-" + r, warm.computeIfAbsent(runtime, k -> new ArrayList<>()),
              fresh.computeIfAbsent(runtime, k -> new ArrayList<>()));
        }
      }
      // The server first: its runtime closes its watches while the API server still answers.
      platform.stop();
      podStarts = BenchReport.sorted(cluster.podStartMillis());
    }

    StringBuilder md = new StringBuilder();
    md.append("Measured by `bench/run runner` (").append(BenchReport.machine()).append("; load average ")
        .append(loadBefore.split(" ")[0]).append(" at the start), embedded store, the real CLI and the scripted")
        .append(" model. The `kubernetes` runtime runs against `testing.FakeCluster`: fabric8's mock API server on")
        .append(" 127.0.0.1 and a fake kubelet that starts each pod's runner jar on this host (as root, the CLI as uid")
        .append(" 1000 through `setpriv`), so a turn crosses the same path as in a cluster (`RunnerCli` → HTTP with")
        .append(" the pod's secret → runner → CLI), over loopback instead of the pod network. ").append(rounds)
        .append(rounds == 1 ? " round" : " rounds")
        .append(", each runtime once per round on a fresh server (they alternate), ").append(FOLLOW_UPS)
        .append(" follow-ups and ").append(FRESH).append(" new agents per round after an unmeasured warm-up.")
        .append(" Milliseconds from sending the message on the WebSocket to the first assistant text and to the")
        .append(" turn's end: median, p90 (min–max).\n\n");
    md.append("| turn | what | process runtime | kubernetes runtime (runner) | difference of medians |"
        + " difference of p90s |\n");
    md.append("| --- | --- | --- | --- | --- | --- |\n");
    row(md, "follow-up on a warm agent", warm.get("process"), warm.get("kubernetes"));
    row(md, "a new agent's first turn", fresh.get("process"), fresh.get("kubernetes"));
    md.append("\nA new agent's first turn on `kubernetes` includes its pod's start as this fake kubelet does it (from")
        .append(" seeing the pod to reporting it Ready, chiefly the runner's JVM start: ")
        .append(BenchReport.medianRange(podStarts)).append(" ms over ").append(podStarts.size())
        .append(" pods) and then the CLI's start through the runner, all on this host. In a cluster the")
        .append(" pod's start is the cluster's cost, which cannot be measured here: scheduling (on GKE Autopilot a")
        .append(" new node can take a minute), pulling the agent image on a node that lacks it, attaching the")
        .append(" workspace volume, gVisor's start, and the readiness probe's period (2 s). The agent's pod is made")
        .append(" when it is created (its CLI is warmed), so a user who types for a few seconds hides part of it;")
        .append(" the platform shows each step as `agent_status` `running` with a detail meanwhile.\n");
    System.out.println(md);
    if (!"no".equals(System.getProperty("bench.write"))) {
      BenchReport.writeSection("The kubernetes runtime through the runner", md.toString());
    }
    System.exit(0);
  }

  private static void measure(Platform platform, String user, List<double[]> warm, List<double[]> fresh)
      throws Exception {
    try (WsClient ws = platform.connect("bench-" + user)) {
      // Warm-up, not measured: the server's code paths get compiled, the CLI binary is in the page cache.
      String w = TurnBenchmark.create(ws, "warm-up");
      for (int i = 0; i < 10; i++) {
        TurnBenchmark.platformTurn(ws, w, "warm-up " + i);
      }
      ws.call("agent.delete", Json.createObjectBuilder().add("agentId", w));
      TurnBenchmark.freshAgents(ws, 1);

      String agent = TurnBenchmark.warmAgent(ws, FOLLOW_UPS, warm);
      ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));
      fresh.addAll(TurnBenchmark.freshAgents(ws, FRESH));
    }
  }

  private static void awaitReady(Platform platform) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (platform.call("GET", "/health/ready", null, null).statusCode() != 200) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the server was not ready within 60 s");
      }
      Thread.sleep(250);
    }
  }

  private static void row(StringBuilder md, String name, List<double[]> process, List<double[]> kubernetes) {
    for (int k = 0; k < 2; k++) {
      List<Double> p = values(process, k);
      List<Double> q = values(kubernetes, k);
      md.append("| ").append(k == 0 ? name : "").append(" | ").append(k == 0 ? "first text" : "done").append(" | ")
          .append(stat(p)).append(" | ").append(stat(q)).append(" | ")
          .append(String.format("%+.1f", BenchReport.percentile(q, 50) - BenchReport.percentile(p, 50))).append(" | ")
          .append(String.format("%+.1f", BenchReport.percentile(q, 90) - BenchReport.percentile(p, 90))).append(
              " |\n");
    }
  }

  private static String stat(List<Double> sorted) {
    return String.format("%.1f, %.1f (%.1f–%.1f)", BenchReport.percentile(sorted, 50), BenchReport.percentile(sorted,
        90), sorted.get(0), sorted.get(sorted.size() - 1));
  }

  private static List<Double> values(List<double[]> runs, int k) {
    List<Double> v = new ArrayList<>();
    runs.stream().filter(r -> !Double.isNaN(r[k])).forEach(r -> v.add(r[k]));
    return BenchReport.sorted(v);
  }
}
