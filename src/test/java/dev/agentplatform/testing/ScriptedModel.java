package dev.agentplatform.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scripted stand-in for the Anthropic Messages API (server-sent events) that the real Claude Code CLI
 * talks to in tests; the user's text selects the script.
 *
 * <p>Scripts, chosen by the latest user text:
 * <ul>
 *   <li>{@code #write NAME CONTENT}: a Write tool call for NAME in the CLI's working directory, then "Wrote NAME."</li>
 *   <li>{@code #writebig NAME BYTES}: a Write tool call for NAME whose content is BYTES bytes of numbered lines.</li>
 *   <li>{@code #bash COMMAND}: a Bash tool call, then "Ran it."</li>
 *   <li>{@code #slow N MS}: N text deltas, MS milliseconds apart.</li>
 *   <li>{@code #fail STATUS}: the endpoint answers HTTP STATUS with an error body.</li>
 *   <li>{@code #say TEXT}: TEXT as the reply, split into three deltas.</li>
 *   <li>anything else: "Echo: " and the text, split into three deltas.</li>
 * </ul>
 * Every request body is recorded, so a test can check what the model was shown.
 */
public final class ScriptedModel implements AutoCloseable {

  private static final Pattern CWD = Pattern.compile("Primary working directory: (\\S+)");

  private final HttpServer server;
  private final List<JsonObject> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger ids = new AtomicInteger();

  private ScriptedModel(HttpServer server) {
    this.server = server;
  }

  /** Starts the server on 127.0.0.1 at the given port (0 picks a free one). */
  public static ScriptedModel start(int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    ScriptedModel model = new ScriptedModel(server);
    server.createContext("/", model::handle);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "scripted-model");
      t.setDaemon(true);
      return t;
    }));
    server.start();
    return model;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The recorded request bodies of streamed /v1/messages calls, oldest first. */
  public List<JsonObject> requests() {
    return List.copyOf(requests);
  }

  public void clearRequests() {
    requests.clear();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      byte[] raw = exchange.getRequestBody().readAllBytes();
      if (!"POST".equals(exchange.getRequestMethod()) || !path.equals("/v1/messages")) {
        if (path.endsWith("/count_tokens")) {
          sendJson(exchange, 200, "{\"input_tokens\":10}");
        } else {
          sendJson(exchange, 404, error("not_found_error", "no such endpoint in the scripted model: " + path));
        }
        return;
      }
      JsonObject body = Json.createReader(new StringReader(new String(raw, StandardCharsets.UTF_8))).readObject();
      boolean stream = body.getBoolean("stream", false);
      Reply reply = script(body);
      if (stream) {
        requests.add(body);
      }
      if (reply.failStatus > 0) {
        sendJson(exchange, reply.failStatus, error("api_error", "scripted failure " + reply.failStatus));
        return;
      }
      if (!stream) {
        sendJson(exchange, 200, wholeMessage(reply));
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
      exchange.getResponseHeaders().set("Cache-Control", "no-cache");
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      streamReply(out, reply);
    } catch (IOException e) {
      // The CLI went away mid-reply (an interrupted turn): nothing to answer.
    }
  }

  private Reply script(JsonObject body) {
    JsonArray messages = body.getJsonArray("messages");
    JsonObject last = lastUserMessage(messages);
    String cwd = workingDirectory(body);
    if (hasToolResult(last)) {
      String tool = lastToolName(messages);
      return Reply.text("Write".equals(tool) ? "Wrote the file." : "Ran it.", 0, 0);
    }
    String text = lastUserText(last).strip();
    if (text.startsWith("#writebig ")) {
      String[] parts = text.substring(10).trim().split("\\s+");
      StringBuilder content = new StringBuilder();
      for (int line = 1; content.length() < Integer.parseInt(parts[1]); line++) {
        content.append("line ").append(line).append(" of a big file\n");
      }
      content.setLength(Integer.parseInt(parts[1]));
      return Reply.tool("Write", Json.createObjectBuilder().add("file_path", cwd + "/" + parts[0])
          .add("content", content.toString()).build());
    }
    if (text.startsWith("#write ")) {
      String[] parts = text.substring(7).split(" ", 2);
      String file = parts[0].startsWith("/") ? parts[0] : cwd + "/" + parts[0];
      JsonObject input = Json.createObjectBuilder()
          .add("file_path", file).add("content", parts.length > 1 ? parts[1] : "").build();
      return Reply.tool("Write", input);
    }
    if (text.startsWith("#bash ")) {
      return Reply.tool("Bash", Json.createObjectBuilder().add("command", text.substring(6))
          .add("description", "scripted command").build());
    }
    if (text.startsWith("#slow ")) {
      String[] parts = text.substring(6).trim().split("\\s+");
      int n = Integer.parseInt(parts[0]);
      long pause = parts.length > 1 ? Long.parseLong(parts[1]) : 200;
      List<String> chunks = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        chunks.add("chunk " + i + ". ");
      }
      return new Reply(chunks, null, null, pause, 0);
    }
    if (text.startsWith("#fail ")) {
      return new Reply(List.of(), null, null, 0, Integer.parseInt(text.substring(6).trim()));
    }
    if (text.startsWith("#say ")) {
      return Reply.text(text.substring(5), 0, 0);
    }
    return Reply.text("Echo: " + text, 0, 0);
  }

  private static String workingDirectory(JsonObject body) {
    Matcher m = CWD.matcher(body.toString());
    return m.find() ? m.group(1).replace("\\n", "") : "/tmp";
  }

  private static JsonObject lastUserMessage(JsonArray messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonObject m = messages.getJsonObject(i);
      if ("user".equals(m.getString("role", ""))) {
        return m;
      }
    }
    return JsonValue.EMPTY_JSON_OBJECT;
  }

  private static boolean hasToolResult(JsonObject message) {
    JsonValue content = message.get("content");
    if (content instanceof JsonArray blocks) {
      for (JsonValue b : blocks) {
        if (b instanceof JsonObject o && "tool_result".equals(o.getString("type", ""))) {
          return true;
        }
      }
    }
    return false;
  }

  private static String lastToolName(JsonArray messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonValue content = messages.getJsonObject(i).get("content");
      if (content instanceof JsonArray blocks) {
        for (JsonValue b : blocks) {
          if (b instanceof JsonObject o && "tool_use".equals(o.getString("type", ""))) {
            return o.getString("name", "");
          }
        }
      }
    }
    return "";
  }

  /** The user's own words in a message: the last text block that is not a system reminder. */
  static String lastUserText(JsonObject message) {
    JsonValue content = message.get("content");
    if (content instanceof jakarta.json.JsonString s) {
      return s.getString();
    }
    String found = "";
    if (content instanceof JsonArray blocks) {
      for (JsonValue b : blocks) {
        if (b instanceof JsonObject o && "text".equals(o.getString("type", ""))) {
          String t = o.getString("text", "");
          if (!t.startsWith("<system-reminder>")) {
            found = t;
          }
        }
      }
    }
    return found;
  }

  private void streamReply(OutputStream out, Reply reply) throws IOException {
    String id = "msg_scripted_" + ids.incrementAndGet();
    event(out, "message_start", Json.createObjectBuilder().add("type", "message_start")
        .add("message", Json.createObjectBuilder().add("id", id).add("type", "message").add("role", "assistant")
            .add("model", "scripted-model").add("content", Json.createArrayBuilder())
            .addNull("stop_reason").addNull("stop_sequence")
            .add("usage", usage(12, 1))).build());
    int index = 0;
    for (int i = 0; i < reply.chunks.size(); i++) {
      if (i == 0) {
        event(out, "content_block_start", Json.createObjectBuilder().add("type", "content_block_start")
            .add("index", index).add("content_block", Json.createObjectBuilder().add("type", "text").add("text", ""))
            .build());
      } else if (reply.pauseMillis > 0) {
        sleep(reply.pauseMillis);
      }
      event(out, "content_block_delta", Json.createObjectBuilder().add("type", "content_block_delta")
          .add("index", index).add("delta", Json.createObjectBuilder().add("type", "text_delta")
              .add("text", reply.chunks.get(i))).build());
    }
    if (!reply.chunks.isEmpty()) {
      event(out, "content_block_stop", Json.createObjectBuilder().add("type", "content_block_stop")
          .add("index", index).build());
      index++;
    }
    if (reply.toolName != null) {
      String toolId = "toolu_scripted_" + ids.incrementAndGet();
      event(out, "content_block_start", Json.createObjectBuilder().add("type", "content_block_start")
          .add("index", index).add("content_block", Json.createObjectBuilder().add("type", "tool_use")
              .add("id", toolId).add("name", reply.toolName).add("input", Json.createObjectBuilder())).build());
      event(out, "content_block_delta", Json.createObjectBuilder().add("type", "content_block_delta")
          .add("index", index).add("delta", Json.createObjectBuilder().add("type", "input_json_delta")
              .add("partial_json", reply.toolInput.toString())).build());
      event(out, "content_block_stop", Json.createObjectBuilder().add("type", "content_block_stop")
          .add("index", index).build());
    }
    event(out, "message_delta", Json.createObjectBuilder().add("type", "message_delta")
        .add("delta", Json.createObjectBuilder().add("stop_reason", reply.toolName != null ? "tool_use" : "end_turn")
            .addNull("stop_sequence"))
        .add("usage", Json.createObjectBuilder().add("output_tokens", 5 + reply.chunks.size())).build());
    event(out, "message_stop", Json.createObjectBuilder().add("type", "message_stop").build());
  }

  private String wholeMessage(Reply reply) {
    var content = Json.createArrayBuilder();
    if (!reply.chunks.isEmpty()) {
      content.add(Json.createObjectBuilder().add("type", "text").add("text", String.join("", reply.chunks)));
    }
    return Json.createObjectBuilder().add("id", "msg_scripted_" + ids.incrementAndGet()).add("type", "message")
        .add("role", "assistant").add("model", "scripted-model").add("content", content)
        .add("stop_reason", "end_turn").addNull("stop_sequence").add("usage", usage(12, 5)).build().toString();
  }

  private static jakarta.json.JsonObjectBuilder usage(int in, int out) {
    return Json.createObjectBuilder().add("input_tokens", in).add("output_tokens", out)
        .add("cache_creation_input_tokens", 0).add("cache_read_input_tokens", 0);
  }

  private static void event(OutputStream out, String name, JsonObject data) throws IOException {
    out.write(("event: " + name + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static String error(String type, String message) {
    return Json.createObjectBuilder().add("type", "error")
        .add("error", Json.createObjectBuilder().add("type", type).add("message", message)).build().toString();
  }

  private static void sendJson(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** What the scripted model answers: text chunks, an optional tool call, or an HTTP failure. */
  private record Reply(List<String> chunks, String toolName, JsonObject toolInput, long pauseMillis, int failStatus) {
    static Reply text(String text, long pause, int fail) {
      int third = Math.max(1, text.length() / 3);
      List<String> chunks = new ArrayList<>();
      for (int i = 0; i < text.length(); i += third) {
        chunks.add(text.substring(i, Math.min(text.length(), i + third)));
      }
      return new Reply(chunks, null, null, pause, fail);
    }

    static Reply tool(String name, JsonObject input) {
      return new Reply(List.of(), name, input, 0, 0);
    }
  }

  /** Runs the scripted model on its own, for trying the CLI by hand: {@code java ScriptedModel PORT}. */
  public static void main(String[] args) throws Exception {
    ScriptedModel model = start(Integer.parseInt(args[0]));
    System.out.println("scripted model at " + model.baseUrl());
    Thread.currentThread().join();
  }
}
