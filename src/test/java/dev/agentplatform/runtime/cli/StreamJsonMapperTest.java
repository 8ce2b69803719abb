package dev.agentplatform.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeEvent.Completed;
import dev.agentplatform.runtime.RuntimeEvent.Failed;
import dev.agentplatform.runtime.RuntimeEvent.SessionStarted;
import dev.agentplatform.runtime.RuntimeEvent.TextDelta;
import dev.agentplatform.runtime.RuntimeEvent.ToolOutput;
import dev.agentplatform.runtime.RuntimeEvent.ToolUse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Maps stream-json recorded from the real CLI 2.1.328 (two turns on one kept-warm process) and hostile lines. */
class StreamJsonMapperTest {

  private static List<RuntimeEvent> mapAll(StreamJsonMapper mapper, List<String> lines) throws CliOutputException {
    List<RuntimeEvent> out = new ArrayList<>();
    for (String line : lines) {
      out.addAll(mapper.map(line));
    }
    return out;
  }

  private static List<String> recording() throws IOException {
    try (InputStream in = StreamJsonMapperTest.class.getResourceAsStream("/stream-json/write-then-echo.jsonl")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @Test
  void mapsARecordedWriteTurnAndAFollowUp() throws Exception {
    List<RuntimeEvent> events = mapAll(new StreamJsonMapper(), recording());

    SessionStarted session = assertInstanceOf(SessionStarted.class, events.get(0));
    assertEquals("8dff386a-7c4a-4ded-962c-fda25819216b", session.sessionId());

    ToolUse write = events.stream().filter(ToolUse.class::isInstance).map(ToolUse.class::cast).findFirst()
        .orElseThrow();
    assertEquals("Write", write.name());
    assertEquals("/tmp/ws2/hello.txt", write.input().asJsonObject().getString("file_path"));

    ToolOutput output = events.stream().filter(ToolOutput.class::isInstance).map(ToolOutput.class::cast).findFirst()
        .orElseThrow();
    assertEquals(write.toolUseId(), output.toolUseId());
    assertTrue(output.output().startsWith("File created successfully"));

    List<Completed> results = events.stream().filter(Completed.class::isInstance).map(Completed.class::cast).toList();
    assertEquals(2, results.size());
    assertEquals("Wrote the file.", results.get(0).result());
    assertEquals(24, results.get(0).usage().inputTokens());
    assertEquals(0.000356, results.get(0).costUsd(), 1e-9);
    // The second result's total_cost_usd is the process's running total; the turn itself cost the difference.
    assertEquals(0.000228, results.get(1).costUsd(), 1e-9);
    assertEquals("Echo: second message", results.get(1).result());
  }

  @Test
  void textArrivesDeltaByDeltaAndIsNotRepeatedByTheWholeMessage() throws Exception {
    List<RuntimeEvent> events = mapAll(new StreamJsonMapper(), recording());
    List<TextDelta> deltas = events.stream().filter(TextDelta.class::isInstance).map(TextDelta.class::cast).toList();
    List<String> texts = deltas.stream().map(TextDelta::text).toList();
    assertEquals(List.of("Wrote", " the ", "file.", "Echo: ", "second", " messa", "ge"), texts);
    assertEquals("msg_scripted_3", deltas.get(0).messageId());
  }

  @Test
  void wholeMessagesWithoutDeltasStillGiveTheirText() throws Exception {
    String line = "{\"type\":\"assistant\",\"message\":{\"id\":\"m1\",\"content\":[{\"type\":\"text\",\"text\":\"whole\"}]},"
        + "\"parent_tool_use_id\":null}";
    List<RuntimeEvent> events = new StreamJsonMapper().map(line);
    assertEquals(List.of(new TextDelta("m1", "whole")), events);
  }

  @Test
  void anErrorResultIsAFailedTurn() throws Exception {
    String line = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"result\":\"API Error: 400 bad\","
        + "\"total_cost_usd\":0,\"usage\":{}}";
    Failed failed = assertInstanceOf(Failed.class, new StreamJsonMapper().map(line).get(0));
    assertEquals("API Error: 400 bad", failed.reason());
  }

  @Test
  void subAgentLinesAreLeftOut() throws Exception {
    String line = "{\"type\":\"assistant\",\"message\":{\"id\":\"m2\",\"content\":[{\"type\":\"text\",\"text\":\"inner\"}]},"
        + "\"parent_tool_use_id\":\"toolu_1\"}";
    assertTrue(new StreamJsonMapper().map(line).isEmpty());
  }

  @Test
  void garbageIsRefusedWithTheLineInTheMessage() {
    CliOutputException e = assertThrows(CliOutputException.class, () -> new StreamJsonMapper().map(
        "Segmentation fault"));
    assertTrue(e.getMessage().contains("Segmentation fault"));
    assertThrows(CliOutputException.class, () -> new StreamJsonMapper().map("[1,2]"));
    assertThrows(CliOutputException.class, () -> new StreamJsonMapper().map("{\"type\":"));
  }

  @Test
  void aModelApiRetryIsReported() throws Exception {
    // As recorded from the CLI when the endpoint answered HTTP 500.
    String line = "{\"type\":\"system\",\"subtype\":\"api_retry\",\"attempt\":3,\"max_retries\":10,"
        + "\"retry_delay_ms\":2474,\"error_status\":500,\"error\":\"server_error\",\"session_id\":\"s\"}";
    assertEquals(List.of(new RuntimeEvent.Retrying(3, 10, "HTTP 500 server_error")), new StreamJsonMapper().map(line));
  }

  @Test
  void unknownLineTypesAndBlankLinesMapToNothing() throws Exception {
    StreamJsonMapper mapper = new StreamJsonMapper();
    assertTrue(mapper.map("").isEmpty());
    assertTrue(mapper.map("{\"type\":\"system\",\"subtype\":\"status\",\"status\":\"requesting\"}").isEmpty());
    assertTrue(mapper.map("{\"type\":\"something_new\"}").isEmpty());
  }

  @Test
  void theCommandLineIsAnArgumentListWithSettingsAsFlags() {
    var settings = new dev.agentplatform.agent.AgentSettings("Be brief; rm -rf / is a joke", "sonnet",
        List.of("Write", "Bash(git log:*)"));
    List<String> args = CliCommand.arguments("/opt/claude", settings, "default", "sess-1");
    assertEquals("/opt/claude", args.get(0));
    int i = args.indexOf("--append-system-prompt");
    assertEquals("Be brief; rm -rf / is a joke", args.get(i + 1));
    assertEquals("sonnet", args.get(args.indexOf("--model") + 1));
    assertEquals("sess-1", args.get(args.indexOf("--resume") + 1));
    assertEquals(List.of("--allowedTools", "Write", "Bash(git log:*)"), args.subList(args.size() - 3, args.size()));
    assertEquals("", args.get(args.indexOf("--setting-sources") + 1));
  }
}
