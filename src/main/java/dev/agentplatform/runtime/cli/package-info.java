/** What every CLI-driving runtime shares: the command line and the stream-json mapping. Depends on runtime. */
package dev.agentplatform.runtime.cli;
