package dev.agentplatform.testing;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.agentplatform.runtime.RuntimeEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** What tests of a runtime read from a turn's events: the turn up to its end, and its streamed text. */
public final class RuntimeTurns {

  private RuntimeTurns() {
  }

  /** The turn's events up to its final one, each within 60 s; the turn must have completed. */
  public static List<RuntimeEvent> finish(BlockingQueue<RuntimeEvent> events) throws InterruptedException {
    List<RuntimeEvent> all = new ArrayList<>();
    RuntimeEvent e;
    do {
      e = events.poll(60, TimeUnit.SECONDS);
      assertNotNull(e, "the turn went on within 60 s: " + all);
      all.add(e);
    } while (!e.isFinal());
    assertInstanceOf(RuntimeEvent.Completed.class, e, "the turn completed: " + all);
    return all;
  }

  /** The text the turn streamed, its deltas joined. */
  public static String text(List<RuntimeEvent> events) {
    StringBuilder b = new StringBuilder();
    events.stream().filter(e -> e instanceof RuntimeEvent.TextDelta).map(e -> ((RuntimeEvent.TextDelta) e).text())
        .forEach(b::append);
    return b.toString();
  }
}
