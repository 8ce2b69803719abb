/**
 * The application service both front doors (the WebSocket in {@code session}, REST in {@code api}) call: every
 * operation on agents and conversations as one user, with its ownership check, and the strict reading of client
 * JSON. Neither front door is known here. Depends on agent, conversation, turn, metrics and error.
 */
package dev.agentplatform.application;
