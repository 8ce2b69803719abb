/**
 * The store contract ({@link dev.agentplatform.store.PlatformStore}) the core owns; adapters live in
 * sub-packages and depend on this package, agent and conversation, never the other way round.
 */
package dev.agentplatform.store;
