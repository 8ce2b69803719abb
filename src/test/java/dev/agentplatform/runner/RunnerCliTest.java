package dev.agentplatform.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.runtime.runner.RunnerCli;
import dev.agentplatform.runtime.runner.RunnerEndpoint;
import dev.agentplatform.testing.DroppingProxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The platform's side of the runner, {@link RunnerCli}, against a runner in this JVM reached through a proxy whose
 * connections the test cuts: stdout resumes from its offset with every byte once.
 */
@Timeout(30)
class RunnerCliTest {

  private static final String SECRET = "another-pod-secret-42";

  @TempDir
  Path dir;
  private RunnerServer runner;
  private DroppingProxy proxy;
  private RunnerEndpoint endpoint;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws IOException {
    start(1024 * 1024);
  }

  private void start(int bufferBytes) throws IOException {
    start(bufferBytes, RunnerServer.STREAM_IDLE);
  }

  private void start(int bufferBytes, Duration streamIdle) throws IOException {
    Path workspace = Files.createDirectories(dir.resolve("workspace"));
    Files.createDirectories(workspace.resolve("agent"));
    runner = RunnerServer.start(new RunnerConfig("127.0.0.1", 0, dir.resolve("unused"), workspace, "none",
        bufferBytes, 1024 * 1024), SECRET.getBytes(StandardCharsets.UTF_8), null, streamIdle);
    proxy = DroppingProxy.start(runner.port());
    endpoint = new RunnerEndpoint("127.0.0.1", proxy.port(), SECRET);
  }

  @AfterEach
  void stop() {
    proxy.close();
    runner.close();
  }

  @Test
  void stdoutResumesFromItsOffsetAfterTheConnectionDropsWithNoGapAndNoDuplicate() throws Exception {
    RunnerCli cli = RunnerCli.start(http, endpoint, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(10));
    OutputStream stdin = cli.stdin();
    InputStream stdout = cli.stdout();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    List<Long> cuts = new java.util.ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      String line = "{\"line\":" + i + ",\"pad\":\"" + "x".repeat(i * 1000) + "\"}\n";
      // Half a line, a cut, then the rest: the stream breaks in the middle of a stream-json line.
      int half = line.length() / 2;
      byte[] first = send(stdin, line.substring(0, half));
      assertEquals(line.substring(0, half), new String(stdout.readNBytes(first.length), StandardCharsets.UTF_8));
      proxy.dropAll();
      cuts.add(cli.stdoutOffset());
      byte[] rest = send(stdin, line.substring(half));
      assertEquals(line.substring(half), new String(stdout.readNBytes(rest.length), StandardCharsets.UTF_8),
          "line " + i);
      expected.write(first);
      expected.write(rest);
    }
    assertEquals(expected.size(), cli.stdoutOffset());
    List<String> follows = proxy.requestLines().stream().filter(l -> l.startsWith("GET ") && l.contains("/stdout?"))
        .toList();
    assertEquals(6, follows.size(), "stdout was asked for once, then again after each cut: " + follows);
    for (int i = 0; i < cuts.size(); i++) {
      assertTrue(follows.get(i + 1).contains("/stdout?offset=" + cuts.get(i) + " "), "asked again from the offset"
          + " reached at cut " + (i + 1) + ", " + cuts.get(i) + ": " + follows.get(i + 1));
    }
    assertTrue(cli.alive());

    cli.kill();
    assertEquals(-1, stdout.read(), "stdout ends when the CLI is killed");
    assertEquals("killed by signal 9", cli.awaitExit());
    assertFalse(cli.alive());
    IOException late = assertThrows(IOException.class, () -> {
      stdin.write("late\n".getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    });
    assertTrue(late.getMessage().contains("cli_ended"), late.getMessage());
  }

  @Test
  void aStreamTheRunnerEndsAfterAQuietSpellIsAskedForAgainWithNoGapAndNoDuplicate() throws Exception {
    stop();
    start(1024 * 1024, Duration.ofMillis(200));
    RunnerCli cli = RunnerCli.start(http, endpoint, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(10));
    send(cli.stdin(), "one\n");
    assertEquals("one\n", new String(cli.stdout().readNBytes(4), StandardCharsets.UTF_8));
    java.util.concurrent.CompletableFuture<byte[]> next = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return cli.stdout().readNBytes(4);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    int asked = follows().size();
    // Three quiet spells, each ended by the runner and asked for again.
    RunnerServerTest.until(() -> follows().size() >= asked + 3);
    send(cli.stdin(), "two\n");
    assertEquals("two\n", new String(next.get(), StandardCharsets.UTF_8));
    assertEquals(8, cli.stdoutOffset());
    assertTrue(follows().stream().skip(1).allMatch(l -> l.contains("/stdout?offset=4 ")), "asked again from 4: "
        + follows());
    assertTrue(cli.alive());
  }

  @Test
  void aStreamCutAfterAQuietSpellLongerThanTheReconnectWindowIsAskedForAgain() throws Exception {
    RunnerCli cli = RunnerCli.start(http, endpoint, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(1));
    send(cli.stdin(), "one\n");
    assertEquals("one\n", new String(cli.stdout().readNBytes(4), StandardCharsets.UTF_8));
    java.util.concurrent.CompletableFuture<byte[]> next = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return cli.stdout().readNBytes(4);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    Thread.sleep(1500); // the quiet spell itself: the CLI prints nothing for longer than the reconnect window
    assertEquals(1, follows().size(), "the read waited on its one stream all along");
    proxy.dropAll();
    send(cli.stdin(), "two\n");
    assertEquals("two\n", new String(next.get(), StandardCharsets.UTF_8), "the cut was a reason to ask again");
    assertEquals(2, follows().size());
    assertTrue(follows().get(1).contains("/stdout?offset=4 "), follows().toString());
  }

  private List<String> follows() {
    return proxy.requestLines().stream().filter(l -> l.startsWith("GET ") && l.contains("/stdout?")).toList();
  }

  private static byte[] send(OutputStream stdin, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    stdin.write(bytes);
    stdin.flush();
    return bytes;
  }

  @Test
  void bytesTheRunnerNoLongerHoldsEndStdoutWithAnErrorNotAGap() throws Exception {
    stop();
    start(1024);
    RunnerCli first = RunnerCli.start(http, endpoint, List.of("head", "-c", "5000", "/dev/zero"), Map.of(), "agent",
        Duration.ofSeconds(10));
    assertEquals("exit code 0", first.awaitExit());
    RunnerCli late = RunnerCli.attach(http, endpoint, first.instance(), 0, Duration.ofSeconds(10));
    IOException e = assertThrows(IOException.class, () -> late.stdout().read());
    assertTrue(e.getMessage().contains("from offset 0 (it keeps from 3976 on"), e.getMessage());
    // From a held offset it reads to the end.
    RunnerCli resumed = RunnerCli.attach(http, endpoint, first.instance(), 4000, Duration.ofSeconds(10));
    assertEquals(1000, resumed.stdout().readAllBytes().length);
  }

  @Test
  void aRunnerThatStopsAnsweringIsGivenUpAfterTheReconnectWindow() throws Exception {
    RunnerCli cli = RunnerCli.start(http, endpoint, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(1));
    send(cli.stdin(), "one\n");
    assertEquals("one\n", new String(cli.stdout().readNBytes(4), StandardCharsets.UTF_8));
    proxy.close(); // the pod's address answers no more
    IOException lost = assertThrows(IOException.class, () -> cli.stdout().read());
    assertTrue(lost.getMessage().startsWith("the runner at 127.0.0.1:" + proxy.port() + " was lost while reading"
        + " the CLI's stdout"), lost.getMessage());
    assertFalse(cli.alive());
    assertEquals(lost.getMessage(), cli.awaitExit());
  }

  @Test
  void aRefusalCarriesTheRunnersReasonAndNeverTheSecret() throws Exception {
    IOException outside = assertThrows(IOException.class, () -> RunnerCli.start(http, endpoint, List.of("cat"),
        Map.of(), "../..", Duration.ofSeconds(1)));
    assertTrue(outside.getMessage().contains("(bad_cwd)"), outside.getMessage());
    IOException wrong = assertThrows(IOException.class, () -> RunnerCli.start(http,
        new RunnerEndpoint("127.0.0.1", proxy.port(), "not-" + SECRET), List.of("cat"), Map.of(), "agent",
        Duration.ofSeconds(1)));
    assertTrue(wrong.getMessage().contains("(unauthorized)"), wrong.getMessage());
    RunnerCli cli = RunnerCli.start(http, endpoint, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(1));
    assertEquals("runner 127.0.0.1:" + proxy.port() + " instance " + cli.instance(), cli.describe());
    assertFalse(endpoint.toString().contains(SECRET));
    cli.kill();
    cli.awaitExit();
  }

  /** A runner is agent-side: one that answers a call with an endless body is cut off at a bound, not read whole. */
  @Test
  void anEndlessAnswerIsCutOffAtTheBound() throws Exception {
    com.sun.net.httpserver.HttpServer evil = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    evil.createContext("/", exchange -> {
      exchange.sendResponseHeaders(200, 0); // chunked, no end
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) 'x');
      try (java.io.OutputStream out = exchange.getResponseBody()) {
        while (written.get() < 1L << 30) {
          out.write(chunk);
          written.addAndGet(chunk.length);
        }
      } catch (IOException e) {
        // the client stopped reading: what the test expects
      }
    });
    evil.start();
    try {
      RunnerEndpoint at = new RunnerEndpoint("127.0.0.1", evil.getAddress().getPort(), SECRET);
      IOException cut = assertThrows(IOException.class,
          () -> RunnerCli.start(http, at, List.of("cat"), Map.of(), "agent", Duration.ofSeconds(1)));
      assertTrue(cut.getMessage().contains("answered more than " + RunnerCli.MAX_ANSWER_BYTES + " bytes"),
          cut.getMessage());
      assertTrue(written.get() < 1L << 30, "the client stopped reading long before the runner stopped writing");
    } finally {
      evil.stop(0);
    }
  }
}
