/**
 * The {@code kubernetes} runtime: each agent in a sandbox pod of its own (gVisor, non-root, read-only root, its
 * workspace on a PersistentVolumeClaim of its own), made and removed through the Kubernetes API (fabric8), its CLI
 * reached through the runner in the pod ({@link dev.agentplatform.runtime.kubernetes.PodConnector}). Depends on
 * runtime, runtime.cli, runtime.runner (the connector), config and error.
 */
package dev.agentplatform.runtime.kubernetes;
