/** The Google Cloud Firestore adapter of the store. Depends on store, agent, conversation and error. */
package dev.agentplatform.store.firestore;
