package dev.agentplatform.conversation;

import dev.agentplatform.agent.AgentStatus;
import jakarta.json.JsonValue;

/** What happened in a conversation; each kind is a record, named on the wire by {@link #kind()}. */
public sealed interface EventPayload {

  String kind();

  /** A message the user sent. */
  record UserMessage(String text) implements EventPayload {
    public String kind() {
      return "user_message";
    }
  }

  /** Assistant text as the model generated it: one delta, or a whole message when the CLI gave no deltas. */
  record AssistantText(String messageId, String text) implements EventPayload {
    public String kind() {
      return "assistant_text";
    }
  }

  /** The agent called a tool. */
  record ToolCall(String toolUseId, String name, JsonValue input) implements EventPayload {
    public String kind() {
      return "tool_call";
    }
  }

  /** What a tool call returned. */
  record ToolResult(String toolUseId, String output, boolean isError) implements EventPayload {
    public String kind() {
      return "tool_result";
    }
  }

  /** The turn ended normally. */
  record TurnCompleted(String result, Usage usage, double costUsd, long durationMs, int numTurns)
      implements EventPayload {
    public String kind() {
      return "turn_completed";
    }
  }

  /** The turn ended in an error (timeout, a crashed CLI, the model endpoint failing, ...). */
  record TurnFailed(String reason) implements EventPayload {
    public String kind() {
      return "turn_failed";
    }
  }

  /** The user stopped the turn. */
  record TurnInterrupted(String reason) implements EventPayload {
    public String kind() {
      return "turn_interrupted";
    }
  }

  /** The agent's status changed. */
  record AgentStatusChanged(AgentStatus status, String detail) implements EventPayload {
    public String kind() {
      return "agent_status";
    }
  }

  /** Token counts of one turn. */
  record Usage(long inputTokens, long outputTokens, long cacheReadInputTokens, long cacheCreationInputTokens) {
    public static final Usage NONE = new Usage(0, 0, 0, 0);

    public long totalTokens() {
      return inputTokens + outputTokens + cacheReadInputTokens + cacheCreationInputTokens;
    }
  }
}
