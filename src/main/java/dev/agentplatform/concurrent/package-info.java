/** Small concurrency building blocks shared by the features; depends on nothing else in the platform. */
package dev.agentplatform.concurrent;
