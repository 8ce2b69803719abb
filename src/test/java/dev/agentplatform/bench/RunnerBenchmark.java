package dev.agentplatform.bench;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.config.Secrets;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.kubernetes.KubernetesRuntime;
import dev.agentplatform.runtime.kubernetes.KubernetesSettings;
import dev.agentplatform.runtime.kubernetes.RunnerConnector;
import dev.agentplatform.runtime.kubernetes.SandboxPods;
import dev.agentplatform.runtime.process.ProcessRuntime;
import dev.agentplatform.runtime.process.ProcessSettings;
import dev.agentplatform.testing.FakeCluster;
import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.ScriptedModel;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A turn through the {@code kubernetes} runtime (the platform → HTTP → the pod's runner → the CLI, on {@link
 * FakeCluster}) against the same turn through the {@code process} runtime, with the same scripted model: follow-ups
 * on a warm agent and new agents' first turns, over the WebSocket, in alternating rounds (a Liberty start each) so
 * that a change of the machine's load falls on both. Run by {@code bench/run runner [ROUNDS]}.
 */
public final class RunnerBenchmark {

  private static final int FOLLOW_UPS = 30;
  private static final int FRESH = 5;
  private static final int PAIRS = 60;
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
    List<List<double[]>> paired;
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
      if (platform != null) {
        // The server first: its runtime closes its watches while the API server still answers.
        platform.stop();
      }
      podStarts = BenchReport.sorted(cluster.podStartMillis());
      try (ScriptedModel model = ScriptedModel.start(0)) {
        paired = paired(cluster, model.baseUrl(), dir);
      }
    }

    StringBuilder md = new StringBuilder();
    md.append("Measured by `bench/run runner` (").append(BenchReport.machine()).append("; load average ")
        .append(loadBefore.split(" ")[0]).append(" at the start), embedded store, the real CLI and the scripted")
        .append(" model. The `kubernetes` runtime runs against `testing.FakeCluster`: fabric8's mock API server on")
        .append(" 127.0.0.1 and a fake kubelet that starts each pod's runner jar on this host (as root, the CLI as uid")
        .append(" ").append(FakeCluster.CLI_UID).append(
            " through `setpriv`), so a turn crosses the same path as in a cluster (`RunnerCli` → HTTP with")
        .append(" the pod's secret → runner → CLI), over loopback instead of the pod network. ").append(rounds)
        .append(rounds == 1 ? " round" : " rounds")
        .append(", each runtime once per round on a fresh server (they alternate), ").append(FOLLOW_UPS)
        .append(" follow-ups and ").append(FRESH).append(" new agents per round after an unmeasured warm-up.")
        .append(" Milliseconds from sending the message on the WebSocket to the first assistant text and to the")
        .append(" turn's end: median, p90 (min–max).\n\n");
    if (rounds > 0) {
      md.append("| turn | what | process runtime | kubernetes runtime (runner) | difference of medians |"
          + " difference of p90s |\n");
      md.append("| --- | --- | --- | --- | --- | --- |\n");
      row(md, "follow-up on a warm agent", warm.get("process"), warm.get("kubernetes"));
      row(md, "a new agent's first turn", fresh.get("process"), fresh.get("kubernetes"));
    }
    md.append("\nThe rounds through the server run one after the other, so a change of the machine's load between them")
        .append(" (see the load averages) moves their figures either way; the figures below pair each turn with one")
        .append(" of the other runtime taken at the same time.\n");
    md.append("\nThe same comparison without the server, so that the machine's load falls on both alike: the two")
        .append(" runtimes side by side in one JVM (`ProcessRuntime`, its CLI as uid 65534 through `setpriv`, and")
        .append(" `KubernetesRuntime` on the same FakeCluster), one warm agent each, ").append(PAIRS)
        .append(" follow-ups alternating between them (which goes first alternates too). From `start` to the first")
        .append(
            " text delta and to the turn's end; the last column is the median of the differences of each pair.\n\n");
    md.append("| warm follow-up | process runtime | kubernetes runtime (runner) | median of paired differences |\n");
    md.append("| --- | --- | --- | --- |\n");
    for (int k = 0; k < 2; k++) {
      List<Double> p = values(paired.get(0), k);
      List<Double> q = values(paired.get(1), k);
      List<Double> d = new ArrayList<>();
      for (int i = 0; i < paired.get(0).size(); i++) {
        d.add(paired.get(1).get(i)[k] - paired.get(0).get(i)[k]);
      }
      md.append("| ").append(k == 0 ? "first text" : "done").append(" | ").append(stat(p)).append(" | ")
          .append(stat(q)).append(" | ").append(String.format("%+.1f", BenchReport.percentile(BenchReport.sorted(d),
              50))).append(" |\n");
    }
    List<Double> doneDiffs = new ArrayList<>();
    for (int i = 0; i < paired.get(0).size(); i++) {
      doneDiffs.add(paired.get(1).get(i)[1] - paired.get(0).get(i)[1]);
    }
    md.append("\nThe issue's target, a warm turn through the runner within 5 ms of the process runtime: the median of")
        .append(" the paired differences to the turn's end is ").append(String.format("%+.1f", BenchReport.percentile(
            BenchReport.sorted(doneDiffs), 50))).append(" ms.\n");
    md.append("\nA new agent's first turn on `kubernetes` includes its pod's start as this fake kubelet does it (from")
        .append(" seeing the pod to reporting it Ready, chiefly the runner's JVM start: ")
        .append(podStarts.isEmpty() ? "not measured" : BenchReport.medianRange(podStarts)).append(" ms over ").append(
            podStarts.size())
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

  /**
   * Warm follow-ups on both runtimes in one JVM, alternating: {@code [process runs, kubernetes runs]}, each run
   * {@code [first text ms, done ms]}.
   */
  private static List<List<double[]>> paired(FakeCluster cluster, String modelUrl, Path dir) throws Exception {
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    ExecutorService pool = Executors.newCachedThreadPool();
    Map<String, String> env = Map.of("ANTHROPIC_BASE_URL", modelUrl, "ANTHROPIC_API_KEY", "sk-bench-runner");
    String cli = System.getProperty("it.claude.cli.path");
    Path workspaces = Files.createDirectories(dir.resolve("process-workspaces"));
    TurnBenchmark.allowNobody(workspaces);
    AgentRuntime process = new ProcessRuntime(new ProcessSettings(cli, workspaces, "default", 65534, 65534, Duration
        .ofMinutes(10), 10_000_000, env, Secrets.NONE, null, List.of(), ProcessSettings.SandboxMode.NONE, "bwrap",
        "a benchmark"), scheduler);
    KubernetesSettings settings = new KubernetesSettings(NS, "", "agent:bench", "500m", "1Gi", "5Gi", "",
        "agent-sandbox", 8888, cluster.workspaceMount().toString(), "agent-platform-bench", "bench", cli, "default",
        Duration.ofMinutes(10), 10_000_000, env, Secrets.NONE, null);
    KubernetesRuntime kubernetes = new KubernetesRuntime(settings, new SandboxPods(cluster.client(), settings),
        new RunnerConnector(Duration.ofSeconds(10)), id -> true, scheduler, pool, 0);
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!kubernetes.status().available()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the kubernetes runtime is not available: " + kubernetes.status().reason());
        }
        Thread.sleep(100);
      }
      List<double[]> p = new ArrayList<>();
      List<double[]> k = new ArrayList<>();
      for (int i = 0; i < 10; i++) { // warm-up, not measured: the agents' CLIs start, the code paths get compiled
        runtimeTurn(process, "pairp", "warm-up " + i);
        runtimeTurn(kubernetes, "pairk", "warm-up " + i);
      }
      for (int i = 0; i < PAIRS; i++) {
        if (i % 2 == 0) {
          p.add(runtimeTurn(process, "pairp", "follow-up " + i));
          k.add(runtimeTurn(kubernetes, "pairk", "follow-up " + i));
        } else {
          k.add(runtimeTurn(kubernetes, "pairk", "follow-up " + i));
          p.add(runtimeTurn(process, "pairp", "follow-up " + i));
        }
      }
      return List.of(p, k);
    } finally {
      process.close();
      kubernetes.deleteWorkspace("bench", "pairk");
      kubernetes.close();
      pool.shutdownNow();
      scheduler.shutdownNow();
    }
  }

  private static double[] runtimeTurn(AgentRuntime runtime, String agent, String text) throws Exception {
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    long start = System.nanoTime();
    runtime.start(new TurnRequest("bench", agent, "t" + start, text, new AgentSettings("", "", List.of()), null),
        events::add);
    long first = 0;
    while (true) {
      RuntimeEvent e = events.poll(60, TimeUnit.SECONDS);
      long now = System.nanoTime();
      if (e == null) {
        throw new IllegalStateException("no end of the turn within 60 s on " + runtime.name());
      }
      if (first == 0 && e instanceof RuntimeEvent.TextDelta) {
        first = now;
      }
      if (e.isFinal()) {
        if (!(e instanceof RuntimeEvent.Completed)) {
          throw new IllegalStateException("the turn on " + runtime.name() + " ended with " + e);
        }
        return new double[] {(first - start) / 1e6, (now - start) / 1e6};
      }
    }
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
    if (process == null || kubernetes == null) {
      return; // no rounds through the server (ROUNDS 0: only the runtimes side by side)
    }
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
