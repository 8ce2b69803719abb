/** The composition root: builds adapters from configuration and runs start-up. May depend on every package. */
package dev.agentplatform.boot;
