package dev.agentplatform.runtime;

/** Which runtime the platform chose at start-up and why (configured, or what the automatic choice found). */
public record RuntimeSelection(String runtime, String why) {
}
