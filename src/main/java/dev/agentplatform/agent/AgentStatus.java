package dev.agentplatform.agent;

import java.util.Locale;

/** What an agent is doing: waiting for a message, running a turn, or idle after a failed turn. */
public enum AgentStatus {
  IDLE, RUNNING, ERROR;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static AgentStatus fromWire(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
