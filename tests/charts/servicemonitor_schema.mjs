// Validate ServiceMonitors against prometheus-operator's own CRD schema, as shipped in the npm
// package @kubernetes-models/prometheus-operator (generated from the operator's CRDs).
// stdin: a JSON array of {id, manifest}; stdout: a JSON array of {id, error} (error null = valid).
import { readFileSync } from "node:fs";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const inputs = JSON.parse(readFileSync(0, "utf8"));
const results = inputs.map(({ id, manifest }) => {
  try {
    new ServiceMonitor(manifest).validate();
    return { id, error: null };
  } catch (error) {
    return { id, error: String(error.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
