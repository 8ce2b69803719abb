/** Typed errors shared by every feature; depends on nothing else in the platform. */
package dev.agentplatform.error;
