/** MicroProfile Metrics of the platform. Depends on conversation (usage) and error. */
package dev.agentplatform.metrics;
