/**
 * Turns: the busy rule, the mapping from runtime events to conversation events, timeouts and interrupts.
 * Depends on agent, conversation, runtime (the contract only), metrics, config, concurrent and error.
 */
package dev.agentplatform.turn;
