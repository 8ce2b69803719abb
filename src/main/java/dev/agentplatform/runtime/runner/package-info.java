/**
 * One more way to reach a CLI, beside a local process and a Docker exec: a {@link
 * dev.agentplatform.runtime.cli.CliConnection} to the runner in an agent's pod, over HTTP (docs/runner.md). The
 * Kubernetes runtime builds on it. Depends on runtime.cli.
 */
package dev.agentplatform.runtime.runner;
