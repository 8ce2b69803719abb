/** Agents: the model, its rules, and the service that owns their life cycle. Depends on store, config and error. */
package dev.agentplatform.agent;
