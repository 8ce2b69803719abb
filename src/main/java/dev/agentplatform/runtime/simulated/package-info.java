/** The {@code simulated} runtime, for demos only when explicitly configured. Depends on runtime and conversation. */
package dev.agentplatform.runtime.simulated;
