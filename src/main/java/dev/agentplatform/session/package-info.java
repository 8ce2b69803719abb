/**
 * The WebSocket protocol: frame records, the codec, the endpoint and each connection's single writer.
 * Depends on agent, conversation, turn, auth, metrics and config.
 */
package dev.agentplatform.session;
