package dev.agentplatform.bench;

import dev.agentplatform.agent.Agent;
import dev.agentplatform.agent.AgentStatus;
import dev.agentplatform.concurrent.Workers;
import dev.agentplatform.conversation.ConversationEvent;
import dev.agentplatform.conversation.ConversationService;
import dev.agentplatform.conversation.EventPayload;
import dev.agentplatform.conversation.Subscription;
import dev.agentplatform.store.sqlite.SqliteStore;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Creates, uses and deletes many agents through the conversation service against the embedded store, and reports
 * the heap after a full GC along the way: per-agent state must not grow with the number of agents ever seen. Half
 * the agents are deleted right after their turn, the other half after they sat idle and their log was evicted.
 * Writes its section of docs/benchmarks.md. Run by {@code bench/memory}.
 */
public final class MemoryBenchmark {

  private static final int CHECKPOINTS = 10;

  public static void main(String[] args) throws Exception {
    int total = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Path base = Path.of(args.length > 1 ? args[1] : System.getProperty("java.io.tmpdir"));
    Path dir = Files.createTempDirectory(base, "bench-memory");
    SqliteStore store = SqliteStore.open(dir);
    Workers workers = new Workers();
    // The production idle time is a minute; here a second, so that eviction is seen within the run.
    ConversationService conversations = new ConversationService(store, id -> store.findAgent(id).isPresent(),
        workers, Duration.ofSeconds(1));
    AtomicLong delivered = new AtomicLong();
    List<String> idle = new ArrayList<>();
    List<String[]> rows = new ArrayList<>();
    long t0 = System.nanoTime();
    rows.add(measure(0, 0, 0, conversations, t0));
    int step = total / CHECKPOINTS;
    for (int i = 1; i <= total; i++) {
      String id = UUID.randomUUID().toString().replace("-", "");
      Instant now = Instant.now();
      store.createAgent(
          new Agent(id, "bench", "agent " + i, "", "sonnet", List.of(), AgentStatus.IDLE, null, now, now));
      Subscription s = conversations.subscribe(id, 0, e -> delivered.incrementAndGet(), e -> {
        throw e;
      });
      List<CompletableFuture<ConversationEvent>> turn = List.of(
          conversations.append(id, "t", new EventPayload.UserMessage("hello " + i), false),
          conversations.append(id, "t", new EventPayload.AssistantText("m", "Echo: "), false),
          conversations.append(id, "t", new EventPayload.AssistantText("m", "hello " + i), false),
          conversations.append(id, "t", new EventPayload.TurnCompleted("Echo: hello " + i,
              EventPayload.Usage.NONE, 0, 1, 1), false));
      CompletableFuture.allOf(turn.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      s.close();
      if (i % 2 == 0) {
        delete(conversations, store, id);
      } else {
        idle.add(id);
      }
      if (i % step == 0) {
        // The idle half sat for more than the idle time: evicted, then deleted like any agent.
        Thread.sleep(1100);
        int held = conversations.size();
        conversations.evictIdle();
        int evicted = held - conversations.size();
        for (String old : idle) {
          delete(conversations, store, old);
        }
        idle.clear();
        rows.add(measure(i, held, evicted, conversations, t0));
      }
    }
    StringBuilder md = new StringBuilder("\n## Memory over " + String.format("%,d", total) + " agents\n\n")
        .append("Measured by `bench/memory` on ").append(LocalDate.now()).append(" (")
        .append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
        .append(System.getProperty("java.version")).append(", ").append(Runtime.getRuntime().maxMemory() >> 20)
        .append(" MiB max heap).\n")
        .append(
            "Each agent is created in the embedded store (on /dev/shm), subscribed to, given a turn's four events\n")
        .append("through `ConversationService`, unsubscribed and deleted; every second agent is deleted at once, the\n")
        .append("others after sitting idle past the idle time (a second here, a minute in production), so that their\n")
        .append("logs were evicted first. At each checkpoint: the idle logs held after the pause of 1.1 s, how many\n")
        .append(
            "of them the sweep evicted, the logs left after the idle agents were deleted, and the heap used after\n")
        .append("a full GC:\n\n")
        .append("| agents created and deleted | heap after GC (MiB) | idle logs held | of them evicted | logs left |")
        .append(" seconds |\n| --- | --- | --- | --- | --- | --- |\n");
    for (String[] r : rows) {
      md.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    md.append("\n")
        .append("The heap stays flat: nothing of an agent outlives its use. Before this, `ConversationService` kept\n")
        .append("the log of every agent it had seen until that agent was deleted (reading an agent's last seq was\n")
        .append("enough to make one), and `AgentRecords` every agent's queue likewise. The benchmark drives the\n")
        .append(
            "conversation service alone; `AgentRecords` dropping its queues is checked by `AgentRecordsTest`, and\n")
        .append("`TurnService` holds only running turns (removed at their end and on delete).\n");
    Path file = Path.of("docs/benchmarks.md");
    String doc = Files.exists(file) ? Files.readString(file) : "# Benchmarks\n";
    int at = doc.indexOf("\n## Memory over ");
    if (at >= 0) {
      int next = doc.indexOf("\n## ", at + 1);
      doc = doc.substring(0, at) + (next >= 0 ? doc.substring(next) : "");
    }
    Files.writeString(file, doc.stripTrailing() + "\n" + md);
    System.out.println(md);
    store.close();
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
    System.exit(0);
  }

  private static void delete(ConversationService conversations, SqliteStore store, String id) {
    // As AgentService.delete does through its CDI events.
    conversations.deleteEvents(id);
    store.deleteAgent(id);
    conversations.release(id, true);
  }

  private static String[] measure(int done, int held, int evicted, ConversationService conversations, long t0) {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    String[] row = {String.format("%,d", done), String.format("%.1f", used / 1048576.0), String.format("%,d", held),
        String.format("%,d", evicted), String.valueOf(conversations.size()),
        String.format("%.0f", (System.nanoTime() - t0) / 1e9)};
    System.err.println(String.join("  ", row));
    return row;
  }
}
