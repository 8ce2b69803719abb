/** The REST API (Jakarta REST, described by MicroProfile OpenAPI). Depends on agent, conversation, turn, auth, metrics. */
package dev.agentplatform.api;
