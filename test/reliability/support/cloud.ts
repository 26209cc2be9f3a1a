// Moved to test/support/cloud.ts (the e2e and oracle suites use it too); kept so suites that import it from here still work.
export { startCloud, type AwsEndpoint, type Cloud } from "../../support/cloud.js";
