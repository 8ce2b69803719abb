/** The {@code process} runtime: a kept-warm Claude Code CLI child process per agent. Depends on runtime and runtime.cli. */
package dev.agentplatform.runtime.process;
