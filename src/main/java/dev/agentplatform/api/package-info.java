/** The REST API (Jakarta REST, described by MicroProfile OpenAPI). Depends on agent, conversation, turn, auth, metrics and error. */
package dev.agentplatform.api;
