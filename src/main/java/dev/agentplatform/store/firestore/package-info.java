/** The Google Cloud Firestore adapter of the store contract; depends on store, agent, conversation. */
package dev.agentplatform.store.firestore;
