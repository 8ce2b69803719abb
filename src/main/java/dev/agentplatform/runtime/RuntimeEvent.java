package dev.agentplatform.runtime;

import dev.agentplatform.conversation.EventPayload.Usage;
import jakarta.json.JsonValue;

/** What a runtime reports about a running turn, independent of how the CLI said it. */
public sealed interface RuntimeEvent {

  /** The CLI session that carries the conversation (to resume it next time). */
  record SessionStarted(String sessionId) implements RuntimeEvent {
  }

  /** Text as the model generated it. */
  record TextDelta(String messageId, String text) implements RuntimeEvent {
  }

  /** The agent called a tool. */
  record ToolUse(String toolUseId, String name, JsonValue input) implements RuntimeEvent {
  }

  /** A tool's result. */
  record ToolOutput(String toolUseId, String output, boolean isError) implements RuntimeEvent {
  }

  /** The CLI is retrying the model API after a failed call ({@code error} says how it failed). */
  record Retrying(int attempt, int maxRetries, String error) implements RuntimeEvent {
  }

  /**
   * The turn waits for what it runs in to be made (a sandbox pod being scheduled, its image pulled); {@code detail}
   * says what it waits for, e.g. "starting a sandbox: waiting for a node". Comes before any output of the turn.
   */
  record Preparing(String detail) implements RuntimeEvent {
  }

  /** The turn ended normally (the last event of a turn). */
  record Completed(String result, Usage usage, double costUsd, long durationMs, int numTurns, String sessionId)
      implements RuntimeEvent {
  }

  /** The turn ended in an error (the last event of a turn). */
  record Failed(String reason) implements RuntimeEvent {
  }

  /** The turn was stopped through {@link RunningTurn#stop()} (the last event of a turn). */
  record Stopped() implements RuntimeEvent {
  }

  /** Whether this event ends the turn. */
  default boolean isFinal() {
    return this instanceof Completed || this instanceof Failed || this instanceof Stopped;
  }
}
