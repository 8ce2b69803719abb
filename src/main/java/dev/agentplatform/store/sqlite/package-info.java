/** The embedded SQLite adapter of the store, for a laptop run. Depends on store, agent, conversation and error. */
package dev.agentplatform.store.sqlite;
