/** Who is asking: the {@link dev.agentplatform.auth.Identity} seam and its configured implementation. Depends on config and error. */
package dev.agentplatform.auth;
