/** Agents: the model, its rules, its repository (a port the store adapters implement) and the service that owns their life cycle. Depends on config and error. */
package dev.agentplatform.agent;
