package dev.agentplatform.boot;

import java.util.function.Supplier;

/**
 * Which runtime {@code AGENT_RUNTIME} and {@code DISABLE_DOCKER} choose, and why in words for the log and readiness:
 * for {@code auto} the first that applies of {@code kubernetes} (in a cluster whose API grants what the runtime
 * needs), {@code docker} (an Engine answers) and {@code process}, each probe asked at most once and only if needed.
 */
final class RuntimeChoice {

  /** The runtime to build ({@code kubernetes}, {@code docker}, {@code process} or {@code simulated}) and why. */
  record Decision(String runtime, String why) {
  }

  private RuntimeChoice() {
  }

  /**
   * @param choice AGENT_RUNTIME
   * @param disableDocker DISABLE_DOCKER
   * @param dockerHost DOCKER_HOST, for the reason
   * @param kubernetes why the kubernetes runtime cannot run here (not in a cluster, API down, not permitted), or
   *     null when it can
   * @param docker why no Docker Engine answers, or null when one does
   */
  static Decision decide(String choice, boolean disableDocker, String dockerHost, Supplier<String> kubernetes,
      Supplier<String> docker) {
    switch (choice) {
      case "process", "simulated", "kubernetes" -> {
        return new Decision(choice, "AGENT_RUNTIME=" + choice);
      }
      case "docker" -> {
        // The switch turns Docker off whatever else is set: no Docker client is even made.
        return disableDocker ? new Decision("process", "DISABLE_DOCKER=true overrides AGENT_RUNTIME=docker")
            : new Decision("docker", "AGENT_RUNTIME=docker");
      }
      case "auto" -> {
        String notKubernetes = kubernetes.get();
        if (notKubernetes == null) {
          return new Decision("kubernetes", "AGENT_RUNTIME=auto and this server runs in a Kubernetes cluster whose"
              + " API server grants it what the kubernetes runtime needs");
        }
        // Today's choice, its words kept, then why not kubernetes.
        String notHere = "; not kubernetes: " + notKubernetes;
        if (disableDocker) {
          return new Decision("process", "DISABLE_DOCKER=true" + notHere);
        }
        String notDocker = docker.get();
        return notDocker == null
            ? new Decision("docker", "AGENT_RUNTIME=auto and the Docker Engine at " + dockerHost + " answers" + notHere)
            : new Decision("process", "AGENT_RUNTIME=auto and no Docker Engine answers at " + dockerHost + " ("
                + notDocker + ")" + notHere);
      }
      default -> throw new IllegalStateException(
          "AGENT_RUNTIME must be auto, docker, kubernetes, process or simulated, not '" + choice + "'");
    }
  }
}
