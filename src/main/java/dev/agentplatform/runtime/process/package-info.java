/**
 * The {@code process} runtime: a kept-warm Claude Code CLI child process per agent, each in a bubblewrap sandbox of
 * its own when bubblewrap runs here. Depends on runtime, runtime.cli, config (for
 * {@link dev.agentplatform.config.Secrets}) and error.
 */
package dev.agentplatform.runtime.process;
