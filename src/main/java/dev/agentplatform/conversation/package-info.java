/**
 * Conversations: the event model, its one JSON form, its store (a port the store adapters implement), and the
 * per-agent log that numbers, stores and fans out events. Depends on agent, concurrent and error.
 */
package dev.agentplatform.conversation;
