/** Reported by `/health/readiness` as `litellm_version` and by `fleetgate --version`. */
export const VERSION = '0.1.0';
