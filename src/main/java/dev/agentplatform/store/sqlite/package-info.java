/** The embedded SQLite adapter of the store contract, for a laptop run; depends on store, agent, conversation. */
package dev.agentplatform.store.sqlite;
