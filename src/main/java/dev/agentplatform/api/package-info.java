/**
 * The REST API (Jakarta REST, described by MicroProfile OpenAPI), a thin adapter over the application service,
 * and the HTTP rules of the whole application (security headers, typed error pages, encoded paths). Depends on
 * application, agent (its JSON form), conversation (its JSON form), turn, auth, metrics and error.
 */
package dev.agentplatform.api;
