/** What every CLI-driving runtime shares: the command line and the stream-json mapping. Depends on runtime, agent and conversation. */
package dev.agentplatform.runtime.cli;
