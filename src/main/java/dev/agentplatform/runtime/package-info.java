/**
 * The runtime contract ({@link dev.agentplatform.runtime.AgentRuntime}) the core owns. Adapters live in
 * sub-packages ({@code process}, {@code docker}, {@code kubernetes}, {@code simulated}); {@code cli} holds what every
 * CLI-driving adapter shares (its command line and its stream-json mapping). Depends on agent, conversation and error.
 */
package dev.agentplatform.runtime;
