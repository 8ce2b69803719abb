package dev.agentplatform.agent;

import java.util.List;

/** An update to an agent: each non-null field replaces the stored one. */
public record AgentChanges(String name, String instructions, String model, List<String> allowedTools) {

  public boolean isEmpty() {
    return name == null && instructions == null && model == null && allowedTools == null;
  }

  /** Whether the change alters how the agent's CLI is started (so a warm process must be replaced). */
  public boolean touchesSettings() {
    return instructions != null || model != null || allowedTools != null;
  }
}
