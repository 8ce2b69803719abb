package dev.agentplatform.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client without the secret can cost the runner, against the runner's {@link Main} started as a JVM of its own
 * (the JDK server reads its limits once per JVM, so only a fresh one shows them) on 127.0.0.1, spoken to through raw
 * sockets that send as slowly as an attacker would.
 */
@Timeout(60)
class RunnerLimitsTest {

  private static final String SECRET = "limits-secret-5150";

  @TempDir
  Path dir;
  private Process runner;
  private int port;
  private final List<Socket> sockets = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** Starts Main from this build's classes (only the runner's package is needed) with {@code properties} added. */
  private void start(String... properties) throws Exception {
    Path workspace = Files.createDirectories(dir.resolve("workspace"));
    Path secret = Files.writeString(dir.resolve("secret"), SECRET);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("r--------"));
    Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
    command.addAll(List.of(properties));
    command.addAll(List.of("-cp", classes.toString(), Main.class.getName(), "--RUNNER_HOST=127.0.0.1",
        "--RUNNER_PORT=0", "--RUNNER_SECRET_FILE=" + secret, "--RUNNER_WORKSPACE=" + workspace,
        "--RUNNER_CLI_USER=none"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(dir.resolve("runner.log").toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv("PATH"));
    runner = builder.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(runner.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        return null;
      }
    }).get(30, TimeUnit.SECONDS);
    assertNotNull(line, "the runner said where it listens; its log: " + Files.readString(dir.resolve("runner.log")));
    port = Integer.parseInt(line.replaceAll("runner listening on 127\\.0\\.0\\.1:(\\d+),.*", "$1"));
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (runner != null) {
      List<ProcessHandle> tree = runner.descendants().toList();
      runner.destroyForcibly();
      runner.waitFor(10, TimeUnit.SECONDS);
      tree.forEach(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void aRequestWithoutTheSecretIsAnsweredWithoutItsBodyAndItsConnectionClosed() throws Exception {
    start();
    // Many clients at once, each announcing a body of 4 MB and sending a few bytes of it, then holding it open.
    for (int i = 0; i < 50; i++) {
      Socket s = connect();
      send(s, "POST /cli HTTP/1.1\r\nHost: runner\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n"
          + (i % 2 == 0 ? "" : "Authorization: Bearer wrong\r\n") + "\r\n{\"argv\":[");
    }
    for (Socket s : sockets) {
      Answer a = answer(s);
      assertEquals(401, a.status(), a.head());
      assertTrue(a.head().toLowerCase().contains("\r\nconnection: close\r\n"), a.head());
      assertTrue(a.body().startsWith("{\"error\":\"unauthorized\""), a.body());
      assertTrue(closedByRunner(s), "the runner closed the connection without reading the body");
    }
    assertEquals(200, authenticated("/cli").statusCode(), "the runner still serves the platform");
  }

  @Test
  void clientsThatSendSlowlyHoldAtMostTheRequestThreadsAndAreCutOff() throws Exception {
    start("-Dsun.net.httpserver.maxReqTime=2");
    assertEquals(200, authenticated("/cli").statusCode());
    int before = threads();
    int slow = RunnerServer.REQUEST_THREADS * 4;
    for (int i = 0; i < slow; i++) {
      send(connect(), "GET /cli HTTP/1.1\r\nHost: runner\r\n"); // the headers never end
    }
    // The runner's threads are counted while it holds the connections, until it cuts off the first.
    int most = before;
    Socket first = sockets.get(0);
    first.setSoTimeout(50);
    boolean cut = false;
    while (!cut) {
      if (Thread.interrupted()) {
        throw new InterruptedException("the test's time is up");
      }
      most = Math.max(most, threads());
      try {
        cut = closedByRunner(first);
        assertTrue(cut, "the runner sent nothing");
      } catch (SocketTimeoutException e) {
        // still held: count again
      }
    }
    for (Socket s : sockets) {
      s.setSoTimeout(20_000);
      assertTrue(closedByRunner(s), "the runner cut off a request that did not arrive in time");
    }
    // A few more for the JDK's own (a compiler thread may start), far fewer than a thread per connection.
    assertTrue(most <= before + RunnerServer.REQUEST_THREADS + 8, "the runner had " + most + " threads, " + before
        + " before " + slow + " slow clients");
    assertEquals(200, authenticated("/cli").statusCode(), "the runner still serves the platform");
  }

  @Test
  void tooManyOrTooLargeHeadersCloseTheConnectionUnanswered() throws Exception {
    start();
    Socket many = connect();
    StringBuilder names = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      names.append("X-Pad-").append(i).append(": x\r\n"); // the JDK counts names, not lines
    }
    send(many, "GET /healthz HTTP/1.1\r\nHost: runner\r\n" + names + "\r\n");
    assertTrue(closedByRunner(many), "40 headers: closed");
    Socket large = connect();
    send(large, "GET /healthz HTTP/1.1\r\nHost: runner\r\nX-Pad: " + "x".repeat(20_000) + "\r\n\r\n");
    assertTrue(closedByRunner(large), "a 20 KB header: closed");
    Socket fine = connect();
    send(fine, "GET /healthz HTTP/1.1\r\nHost: runner\r\n" + "X-Pad: x\r\n".repeat(100) + "\r\n");
    assertEquals(200, answer(fine).status(), "a header repeated is one header, and 100 small lines are fine");
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(20_000); // a read the runner never ends fails the test rather than hang it
    sockets.add(s);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  /** An answer read off a raw socket: the status line and headers, and a body of the length they give. */
  private record Answer(int status, String head, String body) {
  }

  private static Answer answer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertTrue(b >= 0, "the runner answered before closing: " + head);
      head.write(b);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    int length = Integer.parseInt(h.toLowerCase().replaceAll("(?s).*\r\ncontent-length: (\\d+)\r\n.*", "$1"));
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    return new Answer(Integer.parseInt(h.substring(9, 12)), h, body);
  }

  /** Whether the runner closed the connection: a read ends (or is reset) with nothing more sent. */
  private static boolean closedByRunner(Socket s) throws IOException {
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketException e) {
      return true; // reset: the runner closed it with our bytes unread
    }
  }

  private HttpResponse<String> authenticated(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + SECRET).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The runner JVM's threads now. */
  private int threads() throws IOException {
    try (var tasks = Files.list(Path.of("/proc/" + runner.pid() + "/task"))) {
      return (int) tasks.count();
    }
  }
}
