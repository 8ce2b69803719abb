package dev.agentplatform.agent;

import java.util.List;

/** How an agent's CLI runs: its instructions (appended to the system prompt), model and allowed tools. */
public record AgentSettings(String instructions, String model, List<String> allowedTools) {

  public AgentSettings {
    allowedTools = List.copyOf(allowedTools);
  }
}
