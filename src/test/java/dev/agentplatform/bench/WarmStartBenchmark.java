package dev.agentplatform.bench;

import dev.agentplatform.testing.Platform;
import dev.agentplatform.testing.WsClient;
import jakarta.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A new agent's first message: sent 2 s after the agent was created (its CLI warmed in the meantime, as when a
 * user opens an agent and starts typing), against one sent at once (the CLI's start-up on the path), with warm
 * follow-ups for reference. Times from sending the message to the first assistant text and to the turn's end, on
 * the WebSocket. Run by {@code bench/run warm [STORE]}.
 */
public final class WarmStartBenchmark {

  private static final int RUNS = 7;
  private static final long TYPING_MS = 2000;

  public static void main(String[] args) throws Exception {
    String store = args.length > 0 ? args[0] : "embedded";
    Platform platform = Platform.get();
    platform.restart(FanoutBenchmark.storeEnv(store));

    List<double[]> later = new ArrayList<>();
    List<double[]> atOnce = new ArrayList<>();
    List<double[]> followUps = new ArrayList<>();
    List<double[]> bareLater = new ArrayList<>();
    int modelCallsWhileWarming = 0;
    Path scratch = Files.createTempDirectory("bench-warm");
    TurnBenchmark.allowNobody(scratch);
    try (WsClient ws = platform.connect("bench-warm")) {
      // Warm-up, not measured: the server's code paths get compiled, the CLI binary gets into the page cache.
      String warm = TurnBenchmark.create(ws, "warm-up");
      for (int i = 0; i < 5; i++) {
        TurnBenchmark.platformTurn(ws, warm, "warm-up " + i);
      }
      ws.call("agent.delete", Json.createObjectBuilder().add("agentId", warm));

      for (int i = 0; i < RUNS; i++) {
        int calls = platform.model.requests().size();
        String agent = TurnBenchmark.create(ws, "opened-" + i);
        Thread.sleep(TYPING_MS); // the user typing: the time the warm-up has, which is what is measured here
        modelCallsWhileWarming += platform.model.requests().size() - calls;
        later.add(TurnBenchmark.platformTurn(ws, agent, "hello " + i));
        ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));

        agent = TurnBenchmark.create(ws, "at-once-" + i);
        atOnce.add(TurnBenchmark.platformTurn(ws, agent, "hello " + i));
        if (i == 0) {
          for (int k = 0; k < RUNS * 3; k++) {
            followUps.add(TurnBenchmark.platformTurn(ws, agent, "follow-up " + k));
          }
        }
        ws.call("agent.delete", Json.createObjectBuilder().add("agentId", agent));

        // The same on the bare CLI: a stream-json process started as long before its first message.
        try (TurnBenchmark.WarmCli bare = new TurnBenchmark.WarmCli(platform.cliPath(), platform,
            scratch.resolve("bare-" + i))) {
          Thread.sleep(TYPING_MS);
          bareLater.add(bare.turn("hello " + i));
        }
      }
    }

    StringBuilder md = new StringBuilder();
    md.append("Measured by `bench/run warm` (").append(BenchReport.machine()).append("), ").append(store)
        .append(" store, the real CLI and the scripted model. Milliseconds from sending the message to the first")
        .append(" assistant text and to the turn's end, median (min–max), ").append(RUNS)
        .append(" new agents each way. The CLI is started when the agent is created")
        .append(" or subscribed to; the model was called ").append(modelCallsWhileWarming)
        .append(" times while CLIs warmed up (it should be 0).\n\n");
    md.append("| first message | first text | done |\n| --- | --- | --- |\n");
    md.append("| ").append(TYPING_MS).append(" ms after the agent was created | ").append(column(later, 0)).append(
        " | ")
        .append(column(later, 1)).append(" |\n");
    md.append("| the bare CLI, started ").append(TYPING_MS).append(" ms before its first message (reference) | ")
        .append(column(bareLater, 0)).append(" | ").append(column(bareLater, 1)).append(" |\n");
    md.append("| at once (the CLI's start-up on the path) | ").append(column(atOnce, 0)).append(" | ")
        .append(column(atOnce, 1)).append(" |\n");
    md.append("| a follow-up on a warm agent (reference) | ").append(column(followUps, 0)).append(" | ")
        .append(column(followUps, 1)).append(" |\n");
    System.out.println(md);
    if (!"no".equals(System.getProperty("bench.write"))) {
      BenchReport.writeSection("A new agent's first message (" + store + " store)", md.toString());
    }
    platform.stop();
    System.exit(0);
  }

  private static String column(List<double[]> runs, int k) {
    List<Double> v = new ArrayList<>();
    runs.stream().filter(r -> !Double.isNaN(r[k])).forEach(r -> v.add(r[k]));
    return BenchReport.medianRange(v);
  }
}
