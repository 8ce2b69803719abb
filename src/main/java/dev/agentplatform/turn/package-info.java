/**
 * Turns: the busy rule, the mapping from runtime events to conversation events (secrets redacted), timeouts and
 * interrupts, and closing the turns a stopped server left open. Depends on agent, conversation, runtime (the
 * contract only), metrics, config, concurrent, replica and error.
 */
package dev.agentplatform.turn;
