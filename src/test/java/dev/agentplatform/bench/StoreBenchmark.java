package dev.agentplatform.bench;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The turn paths of TurnBenchmark on both stores: the embedded one (SQLite) and the Firestore emulator (the
 * harness's), against the bare CLI measured in the same run. A Firestore write is a network round trip, where a
 * SQLite commit is a fraction of a millisecond; this shows how much of it stays on the path to the first text.
 * Run by {@code bench/run store}.
 */
public final class StoreBenchmark {

  private static final int FRESH = 5;
  private static final int FOLLOW_UPS = 25;

  public static void main(String[] args) throws Exception {
    Platform platform = Platform.get();
    String cli = platform.cliPath();
    Path scratch = Files.createTempDirectory("bench-cli");
    TurnBenchmark.allowNobody(scratch);

    TurnBenchmark.bareTurn(cli, platform, scratch.resolve("warm-up"), "warm-up");
    List<double[]> bareFresh = new ArrayList<>();
    for (int i = 0; i < FRESH; i++) {
      bareFresh.add(TurnBenchmark.bareTurn(cli, platform, scratch.resolve("fresh" + i), "hello " + i));
    }
    List<double[]> bareWarm = new ArrayList<>();
    try (TurnBenchmark.WarmCli warm = new TurnBenchmark.WarmCli(cli, platform, scratch.resolve("warm"))) {
      warm.turn("warm-up");
      for (int i = 0; i < FOLLOW_UPS; i++) {
        bareWarm.add(warm.turn("follow-up " + i));
      }
    }

    List<String> stores = List.of("embedded", "firestore");
    List<List<double[]>> fresh = new ArrayList<>();
    List<List<double[]>> warm = new ArrayList<>();
    for (String store : stores) {
      platform.restart(FanoutBenchmark.storeEnv(store));
      try (WsClient ws = platform.connect("bench-store")) {
        String agent = TurnBenchmark.create(ws, "warm-up");
        for (int i = 0; i < 10; i++) {
          TurnBenchmark.platformTurn(ws, agent, "warm-up " + i);
        }
        fresh.add(TurnBenchmark.freshAgents(ws, FRESH));
        List<double[]> runs = new ArrayList<>();
        TurnBenchmark.warmAgent(ws, FOLLOW_UPS, runs);
        warm.add(runs);
      }
    }
    platform.stop();

    StringBuilder md = new StringBuilder();
    md.append("Measured by `bench/run store` (").append(BenchReport.machine()).append("): the same turns on the")
        .append(" embedded store and on the Firestore emulator (on loopback, so a write costs the emulator's work but")
        .append(" not a network's), against the bare CLI in the same run. Milliseconds, median (min–max); ")
        .append(FRESH).append(" fresh agents and ").append(FOLLOW_UPS).append(" follow-ups each.\n\n");
    md.append("| turn | what | bare CLI | embedded | Firestore emulator | overhead embedded / emulator (medians) |\n");
    md.append("| --- | --- | --- | --- | --- | --- |\n");
    row(md, "fresh agent (first message at once)", bareFresh, fresh.get(0), fresh.get(1));
    row(md, "follow-up on a warm agent", bareWarm, warm.get(0), warm.get(1));
    System.out.println(md);
    if (!"no".equals(System.getProperty("bench.write"))) {
      BenchReport.writeSection("The embedded store and the Firestore emulator", md.toString());
    }
    System.exit(0);
  }

  private static void row(StringBuilder md, String name, List<double[]> bare, List<double[]> embedded,
      List<double[]> firestore) {
    for (int k = 0; k < 2; k++) {
      double b = median(bare, k);
      md.append("| ").append(k == 0 ? name : "").append(" | ").append(k == 0 ? "first text" : "done").append(" | ")
          .append(BenchReport.medianRange(values(bare, k))).append(" | ")
          .append(BenchReport.medianRange(values(embedded, k))).append(" | ")
          .append(BenchReport.medianRange(values(firestore, k))).append(" | ")
          .append(String.format("%+.1f / %+.1f", median(embedded, k) - b, median(firestore, k) - b)).append(" |\n");
    }
  }

  private static double median(List<double[]> runs, int k) {
    return BenchReport.percentile(BenchReport.sorted(values(runs, k)), 50);
  }

  private static List<Double> values(List<double[]> runs, int k) {
    List<Double> v = new ArrayList<>();
    runs.stream().filter(r -> !Double.isNaN(r[k])).forEach(r -> v.add(r[k]));
    return v;
  }
}
