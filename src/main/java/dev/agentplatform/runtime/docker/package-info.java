/**
 * The {@code docker} runtime: one container per user on a Docker Engine (docker-java), each agent's kept-warm CLI
 * exec'd in it with its own workspace in the user's volume. Depends on runtime, runtime.cli, config and error.
 */
package dev.agentplatform.runtime.docker;
