/**
 * The runner: the agent pod's command, a small JDK-only program that starts and keeps the agent's Claude Code CLI
 * and serves it to the platform over HTTP (authenticated by a per-pod secret, output streamed with offsets).
 * Packaged as a jar of its own (docs/runner.md). Depends on nothing else in the platform.
 */
package dev.agentplatform.runner;
