/**
 * The WebSocket protocol: frame records, the codec, the endpoint (a thin adapter over the application service),
 * the Origin check at the handshake, and each connection's single writer, pings and liveness. Depends on
 * application, agent (its JSON form), conversation (its JSON form and subscriptions), turn, auth, metrics, concurrent,
 * config and error.
 */
package dev.agentplatform.session;
