package dev.agentplatform.runtime.kubernetes;

import dev.agentplatform.config.Secrets;
import java.time.Duration;
import java.util.Map;

/**
 * How the Kubernetes runtime makes agents' sandbox pods and starts CLIs in them.
 *
 * @param namespace where the sandbox pods, their volumes and secrets live (SANDBOX_NAMESPACE)
 * @param runtimeClass the pods' RuntimeClass ({@code gvisor}), or empty for the cluster's default
 * @param image the agent image, with the runner as its command (SANDBOX_IMAGE)
 * @param cpu each pod's CPU request and limit (a quantity, e.g. {@code 500m})
 * @param memory each pod's memory request and limit (a quantity, e.g. {@code 1Gi})
 * @param storageSize each agent's workspace volume (a quantity, e.g. {@code 5Gi})
 * @param storageClass the volumes' StorageClass, or empty for the cluster's default
 * @param serviceAccount the pods' service account (no cloud role, no API permissions)
 * @param runnerPort where the runner in each pod listens
 * @param workspace where each pod mounts the agent's workspace volume: the CLI's working directory and home
 *     ({@link SandboxObjects#WORKSPACE})
 * @param platform names the platform in the objects' labels: the objects with it are this platform's
 * @param platformVersion written on each pod; a pod of another version is removed at start-up
 * @param cli the CLI in the image: a path, or a name on the image's PATH
 * @param cliIdle how long an agent's CLI (and then its pod) is kept without a message
 * @param environment what each CLI sees besides its home and config directory (API key, base URL, ...)
 * @param secrets values that must never show in logs or events
 * @param credentialsHint what to set when no credentials are configured, or null when they are
 */
public record KubernetesSettings(
    String namespace,
    String runtimeClass,
    String image,
    String cpu,
    String memory,
    String storageSize,
    String storageClass,
    String serviceAccount,
    int runnerPort,
    String workspace,
    String platform,
    String platformVersion,
    String cli,
    String permissionMode,
    Duration cliIdle,
    long outputLimitBytes,
    Map<String, String> environment,
    Secrets secrets,
    String credentialsHint) {

  public KubernetesSettings {
    environment = Map.copyOf(environment);
  }
}
