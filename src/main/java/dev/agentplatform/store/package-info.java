/**
 * The store's life cycle ({@link dev.agentplatform.store.PlatformStore}); its adapters live in sub-packages and
 * implement it together with the ports the features own. Depends on nothing else in the platform.
 */
package dev.agentplatform.store;
