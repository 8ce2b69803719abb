package dev.agentplatform.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The runner's HTTP layer against a runner started in this JVM on 127.0.0.1, with fixed commands such as cat. */
@Timeout(30)
class RunnerServerTest {

  private static final String SECRET = "pod-secret-0123456789";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir
  Path dir;
  private Path workspace;
  private RunnerServer runner;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws IOException {
    workspace = Files.createDirectories(dir.resolve("workspace"));
    Files.createDirectories(workspace.resolve("agent"));
    runner = start(64 * 1024);
  }

  private RunnerServer start(int bufferBytes) throws IOException {
    return RunnerServer.start(new RunnerConfig("127.0.0.1", 0, dir.resolve("unused"), workspace, "none",
        bufferBytes, 4096), SECRET.getBytes(StandardCharsets.UTF_8), null);
  }

  @AfterEach
  void stop() {
    runner.close();
  }

  @Test
  void healthNeedsNoSecretAndRevealsNothing() throws Exception {
    HttpResponse<String> r = send(runner, "GET", "/healthz", null, null);
    assertEquals(200, r.statusCode());
    assertEquals("{\"status\":\"UP\"}", r.body());
  }

  @Test
  void aRequestWithoutTheSecretOrWithAWrongOneIsRefused() throws Exception {
    String start = startBody(List.of("cat"), Map.of(), "agent");
    for (String secret : new String[] {null, "", "wrong", SECRET + "x", SECRET.substring(1), "Basic " + SECRET}) {
      HttpRequest.Builder b = request(runner, "/cli").POST(HttpRequest.BodyPublishers.ofString(start));
      if (secret != null) {
        b.header("Authorization", secret.startsWith("Basic") ? secret : "Bearer " + secret);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, r.statusCode(), "secret " + secret);
      assertTrue(r.body().contains("\"error\":\"unauthorized\""), r.body());
      assertFalse(r.body().contains(SECRET), "the answer does not echo the secret");
    }
    assertEquals(401, send(runner, "GET", "/cli/00", null, "wrong").statusCode());
  }

  @Test
  void badRequestsGetTypedErrors() throws Exception {
    assertError(send(runner, "POST", "/cli", "{\"argv\":[\"cat\"", SECRET), 400, "bad_json");
    assertError(send(runner, "POST", "/cli", "[1,2]", SECRET), 400, "bad_request");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[1e99999999999]}", SECRET), 400, "bad_json");
    assertError(send(runner, "POST", "/cli", "[".repeat(100) + "]".repeat(100), SECRET), 400, "bad_json");
    assertError(send(runner, "POST", "/cli", "{\"cwd\":\"a\",\"cwd\":\"b\"}", SECRET), 400, "bad_json");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[],\"cwd\":\"agent\"}", SECRET), 400, "bad_request");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[1],\"cwd\":\"agent\"}", SECRET), 400, "bad_request");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[\"cat\"],\"env\":{\"A\":1},\"cwd\":\"agent\"}", SECRET),
        400, "bad_request");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[\"cat\"],\"cwd\":\"agent\",\"shell\":true}", SECRET), 400,
        "bad_request");
    // A name env(1) would read as an option, or that no shell could set.
    assertError(send(runner, "POST", "/cli", startBody(List.of("A=B", "cat"), Map.of(), "agent"), SECRET), 400,
        "bad_request");
    for (String name : List.of("-u", "--", "A B", "1A", "")) {
      assertError(send(runner, "POST", "/cli", startBody(List.of("cat"), Map.of(name, "x"), "agent"), SECRET), 400,
          "bad_request");
    }
    assertError(send(runner, "PUT", "/cli", null, SECRET), 405, "method_not_allowed");
    assertError(send(runner, "GET", "/nothing", null, SECRET), 404, "not_found");
    assertError(send(runner, "GET", "/cli/0123abcd", null, SECRET), 404, "unknown_instance");
    assertError(send(runner, "GET", "/cli/0123abcd/stdout?offset=0", null, SECRET), 404, "unknown_instance");
    assertError(send(runner, "POST", "/cli/0123abcd/stdin", "{}\n", SECRET), 404, "unknown_instance");
    assertError(send(runner, "POST", "/cli", "{\"argv\":[\"cat\"],\"cwd\":\"agent\",\"env\":{\"x\":\""
        + "y".repeat(5000) + "\"}}", SECRET), 413, "body_too_large");
    assertError(send(runner, "POST", "/cli", startBody(List.of("/no/such/program"), Map.of(), "agent"), SECRET),
        400, "start_failed");
    // Nothing was lost: the runner still starts a CLI.
    assertEquals(200, send(runner, "POST", "/cli", startBody(List.of("cat"), Map.of(), "agent"), SECRET)
        .statusCode());
  }

  @Test
  void aWorkingDirectoryOutsideTheWorkspaceIsRefused() throws Exception {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.createSymbolicLink(workspace.resolve("link"), outside);
    for (String cwd : List.of("../outside", "agent/../../outside", "agent/..", outside.toString(), "/", "link",
        "link/", "missing", "")) {
      HttpResponse<String> r = send(runner, "POST", "/cli", startBody(List.of("cat"), Map.of(), cwd), SECRET);
      assertEquals(400, r.statusCode(), cwd + ": " + r.body());
    }
    assertEquals(200, send(runner, "POST", "/cli", startBody(List.of("pwd"), Map.of(),
        workspace.resolve("agent").toString()), SECRET).statusCode());
  }

  @Test
  void stdinReachesTheCliAndStdoutResumesFromAnyOffset() throws Exception {
    String id = startCli(List.of("cat"), Map.of());
    assertError(send(runner, "POST", "/cli", startBody(List.of("cat"), Map.of(), "agent"), SECRET), 409,
        "cli_running");
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin", "hello\n", SECRET).statusCode());
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("hello\n", new String(out.readNBytes(6), StandardCharsets.UTF_8));
      // The stream stays open and brings the next bytes as the CLI prints them.
      assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin", "world\n", SECRET).statusCode());
      assertEquals("world\n", new String(out.readNBytes(6), StandardCharsets.UTF_8));
    }
    try (InputStream out = stream(runner, id, "stdout", 3)) {
      assertEquals("lo\nworld\n", new String(out.readNBytes(9), StandardCharsets.UTF_8));
    }
    assertError(send(runner, "GET", "/cli/" + id + "/stdout?offset=13", null, SECRET), 416, "offset_ahead");
    assertError(send(runner, "GET", "/cli/" + id + "/stdout?offset=x", null, SECRET), 400, "bad_offset");
    String status = send(runner, "GET", "/cli/" + id, null, SECRET).body();
    assertEquals("{\"instance\":\"" + id + "\",\"alive\":true,\"exit\":null,\"stdoutBytes\":12,"
        + "\"stderrBytes\":0,\"marks\":{}}", status);

    InputStream following = stream(runner, id, "stdout", 12);
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/kill", "", SECRET).statusCode());
    assertEquals(-1, following.read(), "the stream ends with the CLI");
    status = send(runner, "GET", "/cli/" + id + "?wait=10000", null, SECRET).body();
    assertEquals("{\"instance\":\"" + id + "\",\"alive\":false,\"exit\":\"killed by signal 9\","
        + "\"stdoutBytes\":12,\"stderrBytes\":0,\"marks\":{}}", status);
    assertError(send(runner, "POST", "/cli/" + id + "/stdin", "late\n", SECRET), 409, "cli_ended");
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("hello\nworld\n", new String(out.readAllBytes(), StandardCharsets.UTF_8),
          "an ended CLI's output can still be read");
    }
    // The next CLI may start now.
    assertNotNull(startCli(List.of("cat"), Map.of()));
  }

  @Test
  void aMarkedWriteIsKeptWithTheOffsetItsAnswerBeginsAtAndListedWithTheInstances() throws Exception {
    assertEquals("{\"instances\":[]}", send(runner, "GET", "/cli", null, SECRET).body());
    String id = startCli(List.of("cat"), Map.of());
    assertError(send(runner, "POST", "/cli/" + id + "/stdin?mark=a%2F..", "lost\n", SECRET), 400, "bad_request");
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin?mark=turn_1", "first\n", SECRET).statusCode());
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("first\n", new String(out.readNBytes(6), StandardCharsets.UTF_8));
      assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin", "unmarked\n", SECRET).statusCode());
      assertEquals("unmarked\n", new String(out.readNBytes(9), StandardCharsets.UTF_8));
      assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin?mark=turn-2", "second\n", SECRET).statusCode());
      assertEquals("second\n", new String(out.readNBytes(7), StandardCharsets.UTF_8));
    }
    String status = send(runner, "GET", "/cli/" + id, null, SECRET).body();
    assertTrue(status.endsWith("\"marks\":{\"turn_1\":0,\"turn-2\":15}}"), status);
    try (InputStream out = stream(runner, id, "stdout", 15)) {
      assertEquals("second\n", new String(out.readNBytes(7), StandardCharsets.UTF_8), "the marked turn's output");
    }
    for (int i = 0; i < CliInstance.MARKS + 3; i++) {
      assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin?mark=m" + i, "x\n", SECRET).statusCode());
    }
    Map<?, ?> listed = (Map<?, ?>) ((List<?>) ((Map<?, ?>) Json.parse(send(runner, "GET", "/cli", null, SECRET)
        .body())).get("instances")).get(0);
    assertEquals(id, listed.get("instance"));
    assertEquals(true, listed.get("alive"));
    Map<?, ?> marks = (Map<?, ?>) listed.get("marks");
    assertEquals(CliInstance.MARKS, marks.size(), "only the latest marks are kept: " + marks);
    assertTrue(marks.containsKey("m" + (CliInstance.MARKS + 2)) && !marks.containsKey("turn-2"), marks.toString());
  }

  @Test
  void anOffsetThatFellOutOfTheBufferIsGoneWithTheEarliestKept() throws Exception {
    runner.close();
    runner = start(16);
    String id = startCli(List.of("echo", "0123456789abcdefghijklmnopqrstuvwxyzABC"), Map.of());
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!send(runner, "GET", "/cli/" + id, null, SECRET).body().contains("\"stdoutBytes\":40,")) {
      assertTrue(System.nanoTime() < deadline, "echo printed its 40 bytes");
      Thread.onSpinWait();
    }
    try (InputStream all = stream(runner, id, "stdout", 24)) {
      assertEquals("opqrstuvwxyzABC\n", new String(all.readAllBytes(), StandardCharsets.UTF_8));
    }
    HttpResponse<String> gone = send(runner, "GET", "/cli/" + id + "/stdout?offset=23", null, SECRET);
    assertError(gone, 410, "offset_gone");
    assertTrue(gone.body().contains("\"earliest\":24"), gone.body());
  }

  @Test
  void theCliGetsExactlyTheEnvironmentSentAndNothingOfTheRunners() throws Exception {
    String id = startCli(List.of("env"), Map.of("ONLY", "this one"));
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("ONLY=this one\n", new String(out.readAllBytes(), StandardCharsets.UTF_8));
    }
    String status = send(runner, "GET", "/cli/" + id + "?wait=10000", null, SECRET).body();
    assertTrue(status.contains("\"exit\":\"exit code 0\""), status);
  }

  @Test
  void theCliHoldsNoDescriptorOfTheRunnersOnlyItsStdinStdoutAndStderr() throws Exception {
    // Its listening socket, its connections, the secret file had it been open: none reach the CLI.
    String id = startCli(List.of("sh", "-c", "ls /proc/$$/fd"), Map.of("PATH", "/usr/bin:/bin"));
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("0\n1\n2\n", new String(out.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void stderrIsStreamedToo() throws Exception {
    String id = startCli(List.of("ls", "/no/such/file"), Map.of());
    try (InputStream err = stream(runner, id, "stderr", 0)) {
      assertTrue(new String(err.readAllBytes(), StandardCharsets.UTF_8).contains("/no/such/file"));
    }
  }

  @Test
  void killEndsTheWholeProcessTree() throws Exception {
    // timeout(1) starts sleep as its child: the tree is two processes.
    String id = startCli(List.of("timeout", "60", "sleep", "60"), Map.of());
    ProcessHandle root = null;
    List<ProcessHandle> children = List.of();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (children.isEmpty() && System.nanoTime() < deadline) {
      root = ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> List.of(a)
          .equals(List.of(new String[] {"60", "sleep", "60"}))).orElse(false)
          && p.parent().map(q -> q.pid() == ProcessHandle.current().pid()).orElse(false)).findFirst()
          .orElse(null);
      children = root == null ? List.of() : root.children().toList();
      Thread.onSpinWait();
    }
    assertFalse(children.isEmpty(), "timeout started its child");
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/kill", "", SECRET).statusCode());
    root.onExit().get(10, TimeUnit.SECONDS);
    children.get(0).onExit().get(10, TimeUnit.SECONDS);
    assertFalse(children.get(0).isAlive());
  }

  @Test
  void aStreamWhoseReaderIsGoneEndsEvenWhenTheCliPrintsNothing() throws Exception {
    runner.close();
    runner = RunnerServer.start(new RunnerConfig("127.0.0.1", 0, dir.resolve("unused"), workspace, "none", 64 * 1024,
        4096), SECRET.getBytes(StandardCharsets.UTF_8), null, Duration.ofMillis(200));
    String id = startCli(List.of("cat"), Map.of());
    try (java.net.Socket reader = new java.net.Socket("127.0.0.1", runner.port())) {
      reader.getOutputStream().write(("GET /cli/" + id + "/stdout?offset=0 HTTP/1.1\r\nHost: runner\r\n"
          + "Authorization: Bearer " + SECRET + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      String head = new String(reader.getInputStream().readNBytes(15), StandardCharsets.ISO_8859_1);
      assertEquals("HTTP/1.1 200 OK", head);
      assertEquals(1, runner.streaming(), "the stream holds a thread while its reader is there");
    } // the reader is gone, and the CLI prints nothing
    until(() -> runner.streaming() == 0); // the stream ended
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin", "after\n", SECRET).statusCode());
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("after\n", new String(out.readNBytes(6), StandardCharsets.UTF_8), "a new reader reads on");
    }
  }

  @Test
  void aStatusWaitAndStreamsDoNotHoldTheRequestThreadsAndPastTheirOwnTheRunnerIsBusy() throws Exception {
    String id = startCli(List.of("cat"), Map.of());
    List<InputStream> readers = new java.util.ArrayList<>();
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> waits = new java.util.ArrayList<>();
    for (int i = 0; i < RunnerServer.REQUEST_THREADS; i++) {
      readers.add(stream(runner, id, i % 2 == 0 ? "stdout" : "stderr", 0));
      waits.add(http.sendAsync(request(runner, "/cli/" + id + "?wait=60000").header("Authorization", "Bearer "
          + SECRET).build(), HttpResponse.BodyHandlers.ofString()));
    }
    until(() -> runner.streaming() == 2 * RunnerServer.REQUEST_THREADS);
    assertEquals(RunnerServer.STREAM_THREADS, runner.streaming());
    assertError(send(runner, "GET", "/cli/" + id + "/stdout?offset=0", null, SECRET), 503, "busy");
    // Every request thread would be taken if these held them: the stdin write and the kill are served.
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/stdin", "through\n", SECRET).statusCode());
    assertEquals("through\n", new String(readers.get(0).readNBytes(8), StandardCharsets.UTF_8));
    assertEquals(200, send(runner, "POST", "/cli/" + id + "/kill", "", SECRET).statusCode());
    for (var wait : waits) {
      assertTrue(wait.get().body().contains("\"alive\":false"), "the wait ended with the CLI");
    }
    for (InputStream r : readers) {
      r.readAllBytes();
      r.close();
    }
  }

  @Test
  void aCwdThatIsNoPathIsABadCwd() throws Exception {
    assertError(send(runner, "POST", "/cli", startBody(List.of("cat"), Map.of(), "agent\u0000x"), SECRET), 400,
        "bad_cwd");
  }

  @Test
  void aNumberLongerThanAnyRequestNeedsIsBadJson() throws Exception {
    // BigDecimal takes time quadratic in the digits: a body of 4 MiB of them would hold a thread for long.
    assertError(send(runner, "POST", "/cli", "{\"argv\":[" + "1".repeat(1000) + "],\"cwd\":\"agent\"}", SECRET),
        400, "bad_json");
  }

  @Test
  void aNegativeOffsetIsABadOffset() throws Exception {
    String id = startCli(List.of("cat"), Map.of());
    assertError(send(runner, "GET", "/cli/" + id + "/stdout?offset=-1", null, SECRET), 400, "bad_offset");
  }

  @Test
  void aWriteThatFailedKeepsNoMark() throws Exception {
    // A CLI that lives on with its stdin closed: the write fails, and the turn's mark is not kept.
    String id = startCli(List.of("sh", "-c", "exec 0<&-; echo closed; exec sleep 60"), Map.of());
    try (InputStream out = stream(runner, id, "stdout", 0)) {
      assertEquals("closed\n", new String(out.readNBytes(7), StandardCharsets.UTF_8));
    }
    assertError(send(runner, "POST", "/cli/" + id + "/stdin?mark=t1", "lost\n", SECRET), 409, "cli_ended");
    assertTrue(send(runner, "GET", "/cli/" + id, null, SECRET).body().endsWith("\"marks\":{}}"),
        "no mark for a write that did not happen");
  }

  @Test
  void asRootKillEndsEveryProcessOfTheClisUidAlsoThoseThatLeftItsTree() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(CliUser.effectiveUid() == 0, "only root switches the CLI's uid");
    // A uid of its own, that nothing else on this machine runs as (checked): the kill signals every process of it.
    CliUser user = new CliUser(64001, 64001);
    org.junit.jupiter.api.Assumptions.assumeTrue(user.processes().isEmpty(), "uid 64001 is free");
    runner.close();
    runner = RunnerServer.start(new RunnerConfig("127.0.0.1", 0, dir.resolve("unused"), workspace, "64001:64001",
        64 * 1024, 4096), SECRET.getBytes(StandardCharsets.UTF_8), user);
    try {
      // The subshell starts a daemon in a session of its own and exits: the daemon leaves the CLI's tree.
      String id = startCli(List.of("sh", "-c", "(setsid sleep 300 &); exec sleep 301"), Map.of("PATH",
          "/usr/bin:/bin"));
      // Until the daemon runs, and has left the runner's tree.
      until(() -> user.processes().stream().anyMatch(p -> p.info().arguments().map(a -> List.of(a).equals(List.of(
          "300"))).orElse(false) && !isUnder(p, ProcessHandle.current())));
      HttpResponse<String> killed = send(runner, "POST", "/cli/" + id + "/kill", "", SECRET);
      assertEquals("{\"killed\":true}", killed.body());
      assertEquals(List.of(), user.processes().stream().map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
          .toList(), "no process of the CLI's uid is left (a zombie is dead: its parent has yet to reap it)");
    } finally {
      user.killAll();
    }
  }

  /**
   * Waits until {@code condition} holds, looking again every few milliseconds; the test's timeout (which interrupts
   * the wait) says when it never does.
   */
  static void until(java.util.function.BooleanSupplier condition) throws InterruptedException {
    while (!condition.getAsBoolean()) {
      Thread.sleep(5);
    }
  }

  private static boolean isUnder(ProcessHandle p, ProcessHandle ancestor) {
    return p.parent().map(q -> q.pid() == ancestor.pid() || isUnder(q, ancestor)).orElse(false);
  }

  private String startCli(List<String> argv, Map<String, String> env) throws Exception {
    HttpResponse<String> r = send(runner, "POST", "/cli", startBody(argv, env, "agent"), SECRET);
    assertEquals(200, r.statusCode(), r.body());
    Object id = ((Map<?, ?>) Json.parse(r.body())).get("instance");
    return (String) id;
  }

  private static String startBody(List<String> argv, Map<String, String> env, String cwd) {
    return Json.write(Map.of("argv", argv, "env", env, "cwd", cwd));
  }

  private InputStream stream(RunnerServer r, String id, String which, long offset) throws Exception {
    HttpResponse<InputStream> response = http.send(request(r, "/cli/" + id + "/" + which + "?offset=" + offset)
        .header("Authorization", "Bearer " + SECRET).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    assertEquals(String.valueOf(offset), response.headers().firstValue("X-Runner-Offset").orElse(null));
    return response.body();
  }

  private HttpRequest.Builder request(RunnerServer r, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + r.port() + path)).timeout(TIMEOUT);
  }

  private HttpResponse<String> send(RunnerServer r, String method, String path, String body, String secret)
      throws Exception {
    HttpRequest.Builder b = request(r, path).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    if (secret != null) {
      b.header("Authorization", "Bearer " + secret);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(r.body().startsWith("{\"error\":\"" + code + "\",\"message\":\""), r.body());
  }
}
