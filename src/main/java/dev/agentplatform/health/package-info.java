/** MicroProfile Health checks, one class each (started, live, ready). Depends on boot, store and runtime. */
package dev.agentplatform.health;
