/** The Google Cloud Firestore adapter of the store, the leases and the commands. Depends on store, agent, conversation, replica and error. */
package dev.agentplatform.store.firestore;
