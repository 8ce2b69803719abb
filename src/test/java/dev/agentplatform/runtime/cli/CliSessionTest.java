package dev.agentplatform.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A kept-warm CLI's turns against a fake CLI whose output the test writes: which turn a stop may end. */
class CliSessionTest {

  private static final String RESULT = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
      + "\"result\":\"done\",\"session_id\":\"s1\",\"total_cost_usd\":0.01,\"usage\":{\"input_tokens\":1,"
      + "\"output_tokens\":1},\"duration_ms\":5,\"num_turns\":1}";

  private final FakeCli cli = new FakeCli();
  private final CliSession session = CliSession.start("u1", "a1", new AgentSettings("", "", List.of()), cli,
      1_000_000, UnaryOperator.identity(), s -> {
      });

  @AfterEach
  void end() throws IOException {
    cli.exit();
  }

  @Test
  void aStopAfterItsTurnEndedDoesNotTouchTheNextTurn() throws Exception {
    Events first = new Events();
    RunningTurn one = session.runTurn("one", first);
    cli.print(RESULT);
    assertInstanceOf(RuntimeEvent.Completed.class, first.take());

    Events second = new Events();
    session.runTurn("two", second);
    one.stop(); // a late interrupt or timer of the first turn

    assertEquals(0, cli.kills.get(), "the CLI was not killed");
    assertTrue(session.alive() && session.busy());
    cli.print(RESULT);
    assertInstanceOf(RuntimeEvent.Completed.class, second.take());
    assertTrue(session.alive());
  }

  @Test
  void aStopWhileTheTurnIsBeingToldItEndedDoesNothing() throws Exception {
    CountDownLatch telling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Events first = new Events() {
      @Override
      public void onEvent(RuntimeEvent event) {
        super.onEvent(event);
        if (event.isFinal()) {
          telling.countDown();
          await(release);
        }
      }
    };
    RunningTurn one = session.runTurn("one", first);
    cli.print(RESULT);
    assertTrue(telling.await(10, TimeUnit.SECONDS));
    one.stop();
    release.countDown();

    assertInstanceOf(RuntimeEvent.Completed.class, first.take());
    assertEquals(0, cli.kills.get());
    assertFalse(session.busy(), "the CLI is ready for the next message before the listener hears the end");
    assertTrue(session.alive());
  }

  @Test
  void aStopOfTheRunningTurnKillsTheCliAndNoOtherTurnStartsOnIt() throws Exception {
    Events first = new Events();
    RunningTurn one = session.runTurn("one", first);
    one.stop();

    assertTrue(cli.kills.get() >= 1);
    assertFalse(session.alive(), "a CLI being killed is not handed the next message");
    assertInstanceOf(RuntimeEvent.Stopped.class, first.take());
    assertThrows(IllegalStateException.class, () -> session.runTurn("two", new Events()));
  }

  @Test
  void aTurnFailedOnBadOutputLeavesACliThatTakesNoMoreMessages() throws Exception {
    AtomicBoolean aliveWhenTold = new AtomicBoolean(true);
    Events first = new Events() {
      @Override
      public void onEvent(RuntimeEvent event) {
        if (event.isFinal()) {
          aliveWhenTold.set(session.alive());
        }
        super.onEvent(event);
      }
    };
    session.runTurn("one", first);
    cli.print("not json");
    assertInstanceOf(RuntimeEvent.Failed.class, first.take());
    assertFalse(aliveWhenTold.get(), "the CLI was marked ending before the turn's failure was told");
  }

  @Test
  void theIdleReaperLeavesACliThatATurnHasJustChosen() throws Exception {
    CliSessions sessions = new CliSessions();
    TurnRequest request = new TurnRequest("u1", "a1", "turn_1", "one", new AgentSettings("", "", List.of()), null);
    assertEquals(session, sessions.acquire(request, r -> session));
    sessions.stopIdle(Duration.ZERO); // fires between choosing the CLI and handing it the message

    assertEquals(0, cli.kills.get());
    Events first = new Events();
    session.runTurn("one", first);
    cli.print(RESULT);
    assertInstanceOf(RuntimeEvent.Completed.class, first.take());

    sessions.stopIdle(Duration.ZERO);
    assertTrue(cli.kills.get() >= 1, "an idle CLI nobody chose is stopped");
    assertFalse(session.alive());
  }

  /** Collects a turn's events. */
  private static class Events implements dev.agentplatform.runtime.TurnListener {
    private final BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();

    @Override
    public void onEvent(RuntimeEvent event) {
      events.add(event);
    }

    /** The turn's last event, waiting for it. */
    RuntimeEvent take() throws InterruptedException {
      while (true) {
        RuntimeEvent e = events.poll(10, TimeUnit.SECONDS);
        if (e == null) {
          throw new AssertionError("the turn did not end");
        }
        if (e.isFinal()) {
          return e;
        }
      }
    }

    static void await(CountDownLatch latch) {
      try {
        latch.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A CLI whose stdout the test writes; a kill ends it as SIGKILL would (its output closes, it exits). */
  private static final class FakeCli implements CliConnection {
    final AtomicInteger kills = new AtomicInteger();
    private final PipedOutputStream out = new PipedOutputStream();
    private final PipedInputStream stdout;
    private final PipedOutputStream err = new PipedOutputStream();
    private final PipedInputStream stderr;
    private final CountDownLatch exited = new CountDownLatch(1);

    FakeCli() {
      try {
        stdout = new PipedInputStream(out, 1 << 16);
        stderr = new PipedInputStream(err);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    synchronized void print(String line) throws IOException {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    synchronized void exit() throws IOException {
      out.close();
      err.close();
      exited.countDown();
    }

    @Override
    public OutputStream stdin() {
      return new ByteArrayOutputStream();
    }

    @Override
    public InputStream stdout() {
      return stdout;
    }

    @Override
    public InputStream stderr() {
      return stderr;
    }

    @Override
    public boolean alive() {
      return exited.getCount() > 0;
    }

    @Override
    public void kill() {
      kills.incrementAndGet();
      try {
        exit();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public String awaitExit() throws InterruptedException {
      exited.await();
      return "killed by signal 9";
    }

    @Override
    public String describe() {
      return "fake";
    }
  }
}
