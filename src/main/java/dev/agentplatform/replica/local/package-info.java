/** The leases and commands of one server (the embedded store): always granted, nothing to hand on. Depends on replica. */
package dev.agentplatform.replica.local;
