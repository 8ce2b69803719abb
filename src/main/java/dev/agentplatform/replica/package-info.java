/**
 * Several replicas: this server's identity ({@link dev.agentplatform.replica.Replica}), each agent's lease (one
 * runner at a time, fenced by an epoch) and the commands one replica hands another, as ports the store adapters
 * fulfil, and the keeper that takes, renews and releases this server's leases. Depends on config, concurrent and
 * error.
 */
package dev.agentplatform.replica;
