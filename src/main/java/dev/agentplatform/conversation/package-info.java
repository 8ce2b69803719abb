/**
 * Conversations: the event model, its one JSON form, and the per-agent log that numbers, stores and fans out
 * events. Depends on store, agent (for statuses) and concurrent.
 */
package dev.agentplatform.conversation;
