/**
 * The WebSocket protocol: frame records, the codec, the endpoint and each connection's single writer.
 * Depends on agent, conversation, turn, auth, metrics, config, concurrent and error.
 */
package dev.agentplatform.session;
