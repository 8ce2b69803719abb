package dev.agentplatform.runtime.docker;

import dev.agentplatform.config.Secrets;
import java.time.Duration;
import java.util.Map;

/**
 * How the Docker runtime makes users' containers and starts CLIs in them.
 *
 * @param host the daemon's address (DOCKER_HOST), e.g. {@code unix:///var/run/docker.sock}
 * @param image the agent image (containers/agent/Containerfile)
 * @param prefix names the platform's containers and volumes and marks them as its own (a label)
 * @param platformVersion written on each container; a container of another version is replaced at start-up
 * @param user the non-root user (uid:gid) the container and every CLI in it run as
 * @param network the container's network mode: {@code bridge}, {@code host}, {@code none} or a network's name
 * @param memoryBytes the container's memory limit (its swap limit too: no swap beyond it)
 * @param nanoCpus the container's CPU limit in billionths of a CPU
 * @param pidsLimit how many processes the container may hold
 * @param workspaceRoot where the user's volume is mounted in the container; each agent has a directory in it
 * @param cli the CLI in the image: a path, or a name on the image's PATH
 * @param idleStop how long a user's container stays up with none of their CLIs running
 * @param idleRemove how long a stopped container is kept before it is removed (the volume stays)
 * @param cliIdle how long an agent's CLI is kept warm without a message
 * @param environment what each CLI sees besides its home and config directory (API key, base URL, ...)
 * @param secrets values that must never show in logs or events
 * @param credentialsHint what to set when no credentials are configured, or null when they are
 */
public record DockerSettings(
    String host,
    String image,
    String prefix,
    String platformVersion,
    String user,
    String network,
    long memoryBytes,
    long nanoCpus,
    long pidsLimit,
    String workspaceRoot,
    String cli,
    String permissionMode,
    Duration idleStop,
    Duration idleRemove,
    Duration cliIdle,
    long outputLimitBytes,
    Map<String, String> environment,
    Secrets secrets,
    String credentialsHint) {

  public DockerSettings {
    environment = Map.copyOf(environment);
  }
}
