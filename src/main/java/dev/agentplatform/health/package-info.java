/**
 * MicroProfile Health checks, one class each (started, live, ready), and the probes readiness reads. Depends on
 * boot, store, runtime and concurrent.
 */
package dev.agentplatform.health;
