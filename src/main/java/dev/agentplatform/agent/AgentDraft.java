package dev.agentplatform.agent;

import java.util.List;

/** What a user gives to create an agent; validated by {@link AgentRules}. */
public record AgentDraft(String name, String instructions, String model, List<String> allowedTools) {
}
