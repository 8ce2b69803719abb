/** The {@code simulated} runtime, for demos only when explicitly configured. Depends on runtime. */
package dev.agentplatform.runtime.simulated;
