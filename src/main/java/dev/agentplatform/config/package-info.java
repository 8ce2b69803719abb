/** The platform's configuration bean (MicroProfile Config); depends on nothing else in the platform. */
package dev.agentplatform.config;
