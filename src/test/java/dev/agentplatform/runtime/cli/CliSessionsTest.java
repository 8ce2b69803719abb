package dev.agentplatform.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.agent.AgentSettings;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.TurnRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The warm CLIs' bound (CLI_WARM_LIMIT) and warm-up, with stand-ins for the CLI that only record what they are
 * sent and print what the test tells them: which CLI is stopped, and that a CLI running a turn never is.
 */
class CliSessionsTest {

  private static final AgentSettings SETTINGS = new AgentSettings("", "", List.of());

  private final Map<String, List<FakeCli>> started = new ConcurrentHashMap<>();
  private final List<FakeCli> all = new ArrayList<>();
  private CliSessions sessions;

  @AfterEach
  void stopAll() {
    all.forEach(FakeCli::kill);
  }

  private final Function<TurnRequest, CliSession> spawn = request -> {
    FakeCli cli = new FakeCli();
    synchronized (all) {
      all.add(cli);
    }
    started.computeIfAbsent(request.agentId(), id -> new ArrayList<>()).add(cli);
    return CliSession.start(request.ownerId(), request.agentId(), request.settings(), cli, 1_000_000, s -> s,
        ended -> sessions.forget(ended));
  };

  private static TurnRequest warmUp(String agent) {
    return TurnRequest.warmUp("user", agent, SETTINGS, null);
  }

  private static TurnRequest turn(String agent) {
    return new TurnRequest("user", agent, "turn_1", "hello", SETTINGS, null);
  }

  private FakeCli cli(String agent) {
    List<FakeCli> list = started.get(agent);
    return list.get(list.size() - 1);
  }

  @Test
  void overTheLimitTheLeastRecentlyUsedCliIsStopped() throws Exception {
    sessions = new CliSessions(2);
    sessions.prepare(warmUp("a"), spawn);
    sessions.prepare(warmUp("b"), spawn);
    BlockingQueue<RuntimeEvent> events = new LinkedBlockingQueue<>();
    sessions.startTurn(turn("a"), spawn, events::add);
    cli("a").print("{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"ok\","
        + "\"total_cost_usd\":0,\"usage\":{\"input_tokens\":1,\"output_tokens\":1},\"duration_ms\":1,\"num_turns\":1}");
    assertTrue(events.poll(10, TimeUnit.SECONDS).isFinal(), "a's turn ended");

    sessions.prepare(warmUp("c"), spawn);

    assertTrue(cli("b").killed.await(10, TimeUnit.SECONDS), "b, used least recently, was stopped");
    assertFalse(cli("a").killed.await(200, TimeUnit.MILLISECONDS), "a, used by a turn since, stays");
    assertFalse(cli("c").killed.await(0, TimeUnit.MILLISECONDS), "c, just warmed, stays");
    assertEquals(2, sessions.size());
    assertEquals(1, started.get("a").size(), "a's turn took its warm CLI; no second one was started");
  }

  @Test
  void aCliRunningATurnIsNeverStopped() throws Exception {
    sessions = new CliSessions(1);
    sessions.startTurn(turn("a"), spawn, e -> {
    });
    sessions.prepare(warmUp("b"), spawn);
    sessions.prepare(warmUp("c"), spawn);

    assertTrue(cli("b").killed.await(10, TimeUnit.SECONDS), "the idle b made room for c");
    assertFalse(cli("a").killed.await(200, TimeUnit.MILLISECONDS), "a is running a turn and stays");
    assertFalse(cli("c").killed.await(0, TimeUnit.MILLISECONDS), "c, just warmed, stays");
    assertEquals(2, sessions.size(), "over the limit while the busy CLI runs its turn");
  }

  @Test
  void warmingStartsTheCliOnceAndItsFirstMessageGoesToIt() throws Exception {
    sessions = new CliSessions(4);
    assertTrue(sessions.prepare(warmUp("a"), spawn));
    assertFalse(sessions.prepare(warmUp("a"), spawn), "a warm CLI with the same settings is kept");
    assertEquals(1, started.get("a").size());
    assertEquals(List.of(), cli("a").linesSent(), "a warmed CLI waits for its first message");

    sessions.startTurn(turn("a"), spawn, e -> {
    });
    List<String> lines = cli("a").linesSent();
    assertEquals(1, lines.size());
    assertTrue(lines.get(0).contains("\"content\":\"hello\""), lines.get(0));
    assertEquals(1, started.get("a").size());
  }

  @Test
  void warmingWithNewSettingsReplacesAnIdleCliButNotABusyOne() throws Exception {
    sessions = new CliSessions(0);
    sessions.prepare(warmUp("a"), spawn);
    TurnRequest changed = TurnRequest.warmUp("user", "a", new AgentSettings("be brief", "", List.of()), null);
    assertTrue(sessions.prepare(changed, spawn));
    assertTrue(started.get("a").get(0).killed.await(10, TimeUnit.SECONDS), "the CLI with the old settings stopped");

    sessions.startTurn(new TurnRequest("user", "a", "turn_1", "hi", changed.settings(), null), spawn, e -> {
    });
    assertFalse(sessions.prepare(warmUp("a"), spawn), "a busy CLI is not replaced by a warm-up");
    assertFalse(cli("a").killed.await(200, TimeUnit.MILLISECONDS));
    assertEquals(2, started.get("a").size());
  }

  /** A stand-in for a started CLI: records its stdin, prints what the test gives it, ends when killed. */
  private static final class FakeCli implements CliConnection {
    final CountDownLatch killed = new CountDownLatch(1);
    private final ByteArrayOutputStream stdin = new ByteArrayOutputStream();
    private final PipedOutputStream printer = new PipedOutputStream();
    private final PipedInputStream stdout;

    FakeCli() {
      try {
        stdout = new PipedInputStream(printer, 1 << 16);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    void print(String line) throws IOException {
      printer.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      printer.flush();
    }

    List<String> linesSent() {
      String text;
      synchronized (stdin) {
        text = stdin.toString(StandardCharsets.UTF_8);
      }
      return text.isEmpty() ? List.of() : List.of(text.split("\n"));
    }

    @Override
    public OutputStream stdin() {
      return new OutputStream() {
        @Override
        public void write(int b) {
          synchronized (stdin) {
            stdin.write(b);
          }
        }

        @Override
        public void write(byte[] b, int off, int len) {
          synchronized (stdin) {
            stdin.write(b, off, len);
          }
        }
      };
    }

    @Override
    public InputStream stdout() {
      return stdout;
    }

    @Override
    public InputStream stderr() {
      return new ByteArrayInputStream(new byte[0]);
    }

    @Override
    public boolean alive() {
      return killed.getCount() > 0;
    }

    @Override
    public void kill() {
      killed.countDown();
      try {
        printer.close();
      } catch (IOException e) {
        // already closed
      }
    }

    @Override
    public String awaitExit() throws InterruptedException {
      killed.await();
      return "killed";
    }

    @Override
    public String describe() {
      return "fake";
    }
  }
}
